package dev.switchboard.testsupport;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Real nodes for a test class: {@code nodes} members on loopback (one cluster, free ports, each
 * lists all, as {@link TestNode#cluster}; one node is {@link TestNode#start}), started with
 * {@code env} over {@link TestNode#env}, a client Vert.x beside them, all reached through a
 * {@link Nodes} (a static or instance field of that type, or a parameter). Started before the
 * class's {@code @BeforeAll} and stopped after its {@code @AfterAll}; clients opened through
 * {@link Nodes} during a test are closed after it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(NodesExtension.class)
public @interface Cluster {
  /** How many nodes. */
  int nodes() default 1;

  /** Settings over the test defaults, each {@code "SB_NAME=value"}, for every node. */
  String[] env() default {};

  /**
   * How many of the nodes start before the tests (all when negative): the others are planned (their
   * ports in every member list) and start with {@link Nodes#startNext()}.
   */
  int started() default -1;
}
