package io.lethe.cli;

import java.util.Locale;
import java.util.Map;

/**
 * {@code LETHE_LOG_FORMAT}: {@code text} (the default) or {@code json}, one JSON object per line
 * (logback's JsonEncoder, configured in logback-json.xml). Chosen before the first logger exists.
 */
public final class LogFormat {
    public static final String VARIABLE = "LETHE_LOG_FORMAT";
    private static final String CONFIGURATION = "logback.configurationFile";

    private LogFormat() {
    }

    /** Selects the logging configuration from {@code env}; an explicit -Dlogback.configurationFile wins. */
    public static void apply(Map<String, String> env) {
        String format = env.getOrDefault(VARIABLE, "text").trim().toLowerCase(Locale.ROOT);
        if (System.getProperty(CONFIGURATION) != null) {
            return;
        }
        switch (format) {
            case "json" -> System.setProperty(CONFIGURATION, "logback-json.xml");
            case "text", "" -> {
            }
            default -> System.err.println("lethe: " + VARIABLE + "=" + format + " is not a log format (text or json); logging as text");
        }
    }
}
