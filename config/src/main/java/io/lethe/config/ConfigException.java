package io.lethe.config;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration file was refused; the message lists every problem found, each with its path. */
public class ConfigException extends RuntimeException {
    private final String file;
    private final List<ConfigError> errors;

    public ConfigException(String file, List<ConfigError> errors) {
        super(describe(file, errors));
        this.file = file;
        this.errors = List.copyOf(errors);
    }

    /** The file that was read. */
    public String file() {
        return file;
    }

    public List<ConfigError> errors() {
        return errors;
    }

    private static String describe(String file, List<ConfigError> errors) {
        String header = file + ": " + errors.size() + (errors.size() == 1 ? " problem" : " problems");
        return errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n", header + "\n", ""));
    }
}
