package io.tokenbus.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.databind.type.LogicalType;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Offline validation against the Kubernetes API model: each object is bound to its fabric8 kubernetes-model class
 * (generated from the Kubernetes OpenAPI schema) with every field name checked. fabric8 classes keep unknown fields in
 * an {@code additionalProperties} any-setter, which would let {@code readinesProbe:} pass silently; that any-setter is
 * switched off here, so FAIL_ON_UNKNOWN_PROPERTIES applies at every depth. Scalars must have the schema's type (the
 * API server refuses {@code TOKENBUS_CLUSTER: true} in a ConfigMap, or {@code port: "80"}), and duplicate keys fail.
 */
final class KubeSchema {
  /** The kinds tokenbus ships; anything else is refused rather than passed unchecked. */
  static final Map<String, Class<? extends HasMetadata>> KINDS = Stream.of(Namespace.class, ConfigMap.class,
      Secret.class, Service.class, Deployment.class, PodDisruptionBudget.class, NetworkPolicy.class, Ingress.class)
    .collect(Collectors.toMap(KubeSchema::key, Function.identity()));

  private static final YAMLMapper MAPPER = YAMLMapper.builder()
    .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
    .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
    .annotationIntrospector(new JacksonAnnotationIntrospector() {
      @Override
      public Boolean hasAnySetter(MapperConfig<?> config, Annotated a) {
        return null; // no additionalProperties catch-all: an unknown field is an error
      }
    })
    .withCoercionConfig(LogicalType.Textual, c -> c
      .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
      .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
      .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
    .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail))
    .withCoercionConfig(LogicalType.Float, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail))
    .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail))
    .build();

  private KubeSchema() {}

  private static String key(Class<? extends HasMetadata> c) {
    return HasMetadata.getApiVersion(c) + " " + HasMetadata.getKind(c);
  }

  /** Parses a multi-document YAML stream; fails with the object, field and line of the first violation. */
  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> out = new ArrayList<>();
    try (MappingIterator<JsonNode> docs = MAPPER.readerFor(JsonNode.class).readValues(yaml)) {
      readAll(docs, out);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("not well-formed YAML for Kubernetes: " + e.getMessage(), e);
    }
    return out;
  }

  private static void readAll(MappingIterator<JsonNode> docs, List<HasMetadata> out) {
    while (docs.hasNext()) {
      JsonNode doc = docs.next();
      if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
        continue;
      }
      String kind = doc.path("apiVersion").asString("") + " " + doc.path("kind").asString("");
      String name = kind + " " + doc.path("metadata").path("name").asString("?");
      Class<? extends HasMetadata> type = KINDS.get(kind);
      if (type == null) {
        throw new IllegalArgumentException(name + ": not a kind this test knows (" + KINDS.keySet()
          + "); add its fabric8 model class to KubeSchema.KINDS");
      }
      try {
        out.add(MAPPER.treeToValue(doc, type));
      } catch (JacksonException e) {
        throw new IllegalArgumentException(name + " does not match the Kubernetes API schema: " + e.getMessage(), e);
      }
    }
  }
}
