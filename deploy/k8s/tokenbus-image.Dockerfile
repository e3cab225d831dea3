# Build context: repository root, after `mvn -B -DskipTests package`.
FROM eclipse-temurin:17-jre
COPY launcher/target/tokenbus.jar /opt/tokenbus/tokenbus.jar
ENV JAVA_OPTS="-XX:+UseParallelGC -XX:MaxRAMPercentage=75"
EXPOSE 8080 5701
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /opt/tokenbus/tokenbus.jar \"$@\"", "--"]
