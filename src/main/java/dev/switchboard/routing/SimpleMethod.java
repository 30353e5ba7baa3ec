package dev.switchboard.routing;

import dev.switchboard.auth.Access;

import java.util.Objects;

/**
 * A method whose name, params and access rule are fixed: they are given once to the constructor,
 * so a method class holds only what it does ({@link #handle}).
 */
public abstract class SimpleMethod implements Method {
  private final String name;
  private final ParamSchema params;
  private final Access access;

  protected SimpleMethod(String name, ParamSchema params, Access access) {
    this.name = Objects.requireNonNull(name);
    this.params = Objects.requireNonNull(params);
    this.access = Objects.requireNonNull(access, "every method needs an access rule");
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final ParamSchema params() {
    return params;
  }

  @Override
  public final Access access() {
    return access;
  }
}
