package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.auth.AuthFailure;
import dev.switchboard.auth.Principal;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/**
 * {@code auth.refresh {token}}: a new token for the same {@code sub} replaces the connection's
 * claims and expiry. Any refusal is UNAUTHORIZED and leaves the connection as it was.
 */
public final class AuthRefresh extends SimpleMethod {
  public AuthRefresh() {
    super("auth.refresh", PARAMS, Access.CONNECTED);
  }
  private static final ParamSchema PARAMS = ParamSchema.of(
      ParamSchema.string("token").required().maxLength(TokenVerifier.MAX_TOKEN_CHARS));

  @Override
  public void handle(Call call) {
    Principal current = call.client().principal();
    if (current.anonymous()) {
      throw new SwitchboardException(ErrorCode.UNAUTHORIZED, "anonymous connections have no token to refresh");
    }
    call.node().verifier().verify(call.params().string("token")).onComplete(ar -> {
      if (ar.failed()) {
        String why = ar.cause() instanceof AuthFailure ? ar.cause().getMessage() : "token could not be verified";
        call.reply().error(new SwitchboardException(ErrorCode.UNAUTHORIZED, "token refused: " + why));
        return;
      }
      Principal next = ar.result();
      if (!next.userId().equals(current.userId())) {
        call.reply().error(new SwitchboardException(ErrorCode.UNAUTHORIZED, "token is for another user"));
        return;
      }
      call.client().principal(next);
      // rights included: topics the new token no longer allows are unsubscribed, and named in the result
      com.fasterxml.jackson.databind.node.ObjectNode result = Json.MAPPER.createObjectNode()
          .put("expires_at_ms", next.expiresAtMs());
      com.fasterxml.jackson.databind.node.ArrayNode dropped = result.putArray("unsubscribed");
      var subs = call.client().subscriptions();
      if (subs != null) {
        for (String topic : subs.topics()) {
          if (!dev.switchboard.auth.TopicAcl.canSubscribe(next, topic) && subs.release(topic)) {
            call.node().topics().unsubscribe(subs.subscriber(), topic);
            dropped.add(topic);
          }
        }
        if (!dropped.isEmpty()) {
          call.client().subscriptionsChanged();
        }
      }
      call.reply().result(result);
    });
  }
}
