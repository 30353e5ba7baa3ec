package dev.switchboard.operations;

import dev.switchboard.routing.ParamSchema;

/**
 * An operation kind that external services run (listed in {@code ops.external}): the gateway
 * exposes it as a streaming method and passes the params through; the service's worker validates
 * them. No gateway node runs it, so with no such service in the cluster the request gets
 * UNAVAILABLE.
 */
public final class ExternalKind implements OperationKind {
  private final String name;

  public ExternalKind(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public ParamSchema params() {
    return ParamSchema.OPEN;
  }

  @Override
  public void start(OpContext ctx) {
    throw new IllegalStateException("external kind " + name + " runs in its service, not on a gateway");
  }
}
