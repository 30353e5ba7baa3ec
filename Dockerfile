# syntax=docker/dockerfile:1
# Switchboard node image: build the shaded jar with Maven, run it on a JRE as a non-root user.
#   docker build -t switchboard:1.0.0 .
# The JS SDK (clients/js), the admin page (clients/dashboard) and the tests are not part of the image.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
# dependencies in their own layer (and a BuildKit cache), so a source change does not download them again
RUN --mount=type=cache,target=/root/.m2 mvn -B -q dependency:go-offline -DskipTests
COPY cluster.xml ./
COPY conf/config.json conf/
COPY src/main src/main
# the admin page (clients/dashboard) needs Node.js, which this stage lacks: the image serves no
# /dashboard yet (-Ddashboard.skip=true); the admin API itself is in the jar
RUN --mount=type=cache,target=/root/.m2 mvn -B -q package -DskipTests -Ddashboard.skip=true

FROM eclipse-temurin:17-jre
# a fixed numeric uid/gid, so that Kubernetes' runAsNonRoot can check it without a passwd lookup
RUN groupadd --system --gid 10001 switchboard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin switchboard
WORKDIR /app
COPY --from=build /src/target/switchboard.jar /app/switchboard.jar
# the node needs no writable path but /tmp (Netty's native library is unpacked there)
USER 10001:10001
# heap as a share of the container's memory limit (the JVM reads the cgroup limit), not of the host's;
# the rest is for Netty's direct buffers, metaspace and thread stacks
ENV JAVA_OPTS="-XX:MaxRAMPercentage=70 -XX:InitialRAMPercentage=70 -XX:+ExitOnOutOfMemoryError" \
    SB_HTTP_PORT=8080 \
    SB_CLUSTER_PORT=5701 \
    SB_CLUSTER_BUS_PORT=5801
# HTTP/WebSocket, Hazelcast members, Vert.x clustered event bus
EXPOSE 8080 5701 5801
# /health/live answers from the event loop: a hung loop fails it. No curl in the image: bash's /dev/tcp.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SB_HTTP_PORT} && printf 'GET /health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# exec: java is PID 1 and gets SIGTERM itself (it drains; docs/protocol.md, "Shutdown").
# Arguments go to the jar: docker run … switchboard:1.0.0 token --sub alice
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/switchboard.jar \"$@\"", "switchboard"]
