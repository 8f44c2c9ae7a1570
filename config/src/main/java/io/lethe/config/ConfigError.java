package io.lethe.config;

/**
 * One problem in a configuration file.
 *
 * @param path    where in the YAML document, e.g. {@code regions.eu-west.namespaces[1]}
 * @param problem what is wrong and what is expected
 */
public record ConfigError(String path, String problem) {
    @Override
    public String toString() {
        return (path.isEmpty() ? "(document)" : path) + ": " + problem;
    }
}
