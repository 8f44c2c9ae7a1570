package io.lethe.config;

import java.net.URI;

/** Small reads of {@code jdbc:postgresql://host:port/database?params} URLs. */
public final class JdbcUrls {
    private static final String PREFIX = "jdbc:postgresql://";

    private JdbcUrls() {
    }

    /** True when the URL has the shape Lethe needs. */
    /**
     * The URL with the values of credential parameters ({@code password}, {@code sslpassword},
     * {@code sslkey}...) replaced by {@code ******}: for logs, errors and {@code toString}.
     */
    public static String forDisplay(String url) {
        if (url == null) {
            return null;
        }
        return url.replaceAll("(?i)([?&;](?:password|sslpassword|sslkey|sslcert|sslrootcert|authenticationpluginclassname)=)[^&;]*", "$1******");
    }

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
}
