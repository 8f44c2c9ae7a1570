package io.lethe.config;

import java.net.URI;

/** Small reads of {@code jdbc:postgresql://host:port/database?params} URLs. */
public final class JdbcUrls {
    private static final String PREFIX = "jdbc:postgresql://";

    private JdbcUrls() {
    }

    /**
     * The URL with the values of credential parameters ({@code password}, {@code sslpassword},
     * {@code sslkey}...) replaced by {@code ******}: for logs, errors and {@code toString}.
     */
    public static String forDisplay(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("(?i)([?&;](?:password|sslpassword|sslkey|sslcert|sslrootcert|authenticationpluginclassname)=)[^&;]*",
                "$1******");
    }

    /** True when the URL has the shape Lethe needs. */
    public static boolean isPostgres(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            return false;
        }
        try {
            URI uri = URI.create(url.substring("jdbc:".length()));
            return uri.getHost() != null && database(url) != null && !database(url).isEmpty();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static String host(String url) {
        return URI.create(url.substring("jdbc:".length())).getHost();
    }

    public static int port(String url) {
        int port = URI.create(url.substring("jdbc:".length())).getPort();
        return port < 0 ? 5432 : port;
    }

    public static String database(String url) {
        String path = URI.create(url.substring("jdbc:".length())).getPath();
        return path == null || path.length() < 2 ? null : path.substring(1);
    }

    /**
     * The URL's driver parameters ({@code ?sslmode=verify-full&sslrootcert=/ca.pem}), in order,
     * percent-decoded; a parameter without a value maps to "".
     */
    public static java.util.Map<String, String> parameters(String url) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        int q = url.indexOf('?');
        if (q < 0) {
            return out;
        }
        for (String pair : url.substring(q + 1).split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            out.put(java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8),
                    java.net.URLDecoder.decode(value, java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }
}
