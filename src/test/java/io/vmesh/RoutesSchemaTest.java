package io.vmesh;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/** Every file in routes/ is valid against Camel's YAML DSL schema, so Kaoto and the Camel editors open it. */
class RoutesSchemaTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchema SCHEMA = loadSchema();

    private static JsonSchema loadSchema() {
        try (InputStream in = RoutesSchemaTest.class.getResourceAsStream("/schema/camelYamlDsl.json")) {
            assertThat(in).as("camel-yaml-dsl ships schema/camelYamlDsl.json").isNotNull();
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Path> routeFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            return files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList();
        }
    }

    static Set<ValidationMessage> validate(String yaml) {
        Object document = new Load(LoadSettings.builder().build()).loadFromString(yaml);
        JsonNode node = JSON.valueToTree(document);
        return SCHEMA.validate(node);
    }

    @ParameterizedTest
    @MethodSource("routeFiles")
    void routeFileIsValidAgainstTheYamlDslSchema(Path file) throws IOException {
        assertThat(validate(Files.readString(file))).as(file.toString()).isEmpty();
    }

    @Test
    void theSchemaCatchesAMisspelledKey() {
        String kebabCase = """
                - route:
                    id: "x"
                    from:
                      uri: "direct:x"
                      steps:
                        - set-header:
                            name: "a"
                            constant: "b"
                """;
        assertThat(validate(kebabCase)).isNotEmpty();
    }

    @Test
    void everyRouteHasAnIdAndADescription() throws IOException {
        for (Path file : routeFiles()) {
            List<?> entries = (List<?>) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
            for (Object entry : entries) {
                java.util.Map<?, ?> e = (java.util.Map<?, ?>) entry;
                Object route = e.containsKey("route") ? e.get("route") : e.get("routeTemplate");
                if (route instanceof java.util.Map<?, ?> r) {
                    assertThat(r.get("id")).as(file + ": a route without id").isNotNull();
                    assertThat(r.get("description")).as(file + ": route " + r.get("id") + " has no description").isNotNull();
                }
            }
        }
    }
}
