# The weft image: one runnable jar (the `all` jar weft-cli's shade plugin makes) on a JRE.
# Build the jar first:  mvn -B -DskipTests -pl weft-cli -am package
# then:                 docker build -t weft:0.1.0 .
FROM eclipse-temurin:17-jre

# A fixed, unprivileged uid (Istio's 1337), so that runAsNonRoot can check it without a name lookup.
RUN groupadd --system --gid 1337 weft \
 && useradd --system --uid 1337 --gid 1337 --home-dir /opt/weft --shell /usr/sbin/nologin weft

COPY --chown=root:root weft-cli/target/weft-cli-0.1.0-SNAPSHOT-all.jar /opt/weft/weft.jar

USER 1337:1337
EXPOSE 15010 15012 15014 15443 15021 15053
# The container's heap follows its memory limit.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/weft/weft.jar"]
CMD ["--help"]
