package io.lethe.dev.verify.explore;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A program as a reproduction: printed as SQL (the schema, then each step), the lethe.yml it ran
 * with and the non-SQL steps (reads, faults, pauses) in order; saved and loaded as JSON, which
 * {@code lethe verify --explore --replay FILE} runs again and the scenario catalogue can carry as
 * a regression ({@code explore-<name>}, from {@code dev/src/main/resources/explore/<name>.json}).
 */
final class Repro {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Repro() {
    }

    /** The program as a reader follows it: SQL, lethe.yml, steps. */
    static String text(Program p, List<String> setup, String yaml) {
        return text(p, setup, yaml, Map.of());
    }

    /**
     * The program as a reader follows it: SQL, lethe.yml, steps; after each CONFIG step that changes the
     * configuration, the lethe.yml in force from there on ({@code later}, by step number from 1).
     */
    static String text(Program p, List<String> setup, String yaml, Map<Integer, String> later) {
        StringBuilder sb = new StringBuilder();
        sb.append("-- explore seed ").append(p.seed()).append(", ").append(p.profile()).append(", ").append(p.regions())
                .append(" regions\n");
        sb.append("-- readers: ").append(p.readers()).append('\n');
        if (!p.partialRegionNamespaces().isEmpty()) {
            sb.append("-- the last region caches only ").append(p.partialRegionNamespaces()).append('\n');
        }
        sb.append("-- schema and rows, before the pipeline starts\n");
        setup.forEach(s -> sb.append(s).append(";\n"));
        sb.append("-- lethe.yml\n");
        yaml.lines().forEach(l -> sb.append("--   ").append(l).append('\n'));
        sb.append("-- steps, in order (SQL steps each one transaction)\n");
        int i = 0;
        for (Step s : p.steps()) {
            i++;
            if (s.kind() == Step.Kind.TX || s.kind() == Step.Kind.DDL) {
                sb.append("-- step ").append(i).append(s.a() == null ? "" : " (" + s.a() + ")").append('\n');
                sb.append("BEGIN;\n");
                s.sql().forEach(q -> sb.append(q).append(";\n"));
                sb.append("COMMIT;\n");
            } else {
                sb.append("-- step ").append(i).append(": ").append(s.describe()).append('\n');
                if (later.containsKey(i)) {
                    sb.append("-- lethe.yml from step ").append(i).append(" on\n");
                    later.get(i).lines().forEach(l -> sb.append("--   ").append(l).append('\n'));
                }
            }
        }
        return sb.toString();
    }

    static void save(Program p, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        JSON.writeValue(file.toFile(), p);
    }

    static Program load(Path file) throws IOException {
        return JSON.readValue(file.toFile(), Program.class);
    }

    static Program load(InputStream in) throws IOException {
        return JSON.readValue(in, Program.class);
    }
}
