package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A client request envelope (PROTOCOL.md section 2), validated.
 *
 * @param id     the id exactly as sent (string or integer node), or the one the server generated
 * @param method the method name
 * @param params the params object, empty when absent
 */
public record Request(JsonNode id, String method, ObjectNode params) {
  public static final int MAX_ID_LENGTH = 64;

  /**
   * Reads an envelope. Failures carry the id when one could be read and is valid, so that the
   * error can echo it.
   */
  public static Request parse(JsonNode root, java.util.function.Supplier<JsonNode> idGenerator) {
    if (!root.isObject()) {
      throw new InvalidEnvelope(null, "a request must be a JSON object");
    }
    JsonNode id = root.get("id");
    if (id == null) {
      id = idGenerator.get();
    } else if (!validId(id)) {
      throw new InvalidEnvelope(null, "id must be a string of at most " + MAX_ID_LENGTH + " characters or an integer");
    }
    JsonNode method = root.get("method");
    if (method == null || !method.isTextual()) {
      throw new InvalidEnvelope(id, "method must be a string");
    }
    JsonNode params = root.get("params");
    ObjectNode p;
    if (params == null) {
      p = Json.MAPPER.createObjectNode();
    } else if (params.isObject()) {
      p = (ObjectNode) params;
    } else {
      throw new InvalidEnvelope(id, "params must be an object");
    }
    return new Request(id, method.textValue(), p);
  }

  static boolean validId(JsonNode id) {
    if (id.isTextual()) {
      return id.textValue().length() <= MAX_ID_LENGTH;
    }
    return id.isIntegralNumber() && id.canConvertToLong();
  }

  /** An envelope that is not a valid request; {@link #id()} is null when no valid id could be read. */
  public static final class InvalidEnvelope extends SwitchboardException {
    private final transient JsonNode id;

    public InvalidEnvelope(JsonNode id, String message) {
      super(ErrorCode.INVALID_REQUEST, message);
      this.id = id;
    }

    public JsonNode id() {
      return id;
    }
  }
}
