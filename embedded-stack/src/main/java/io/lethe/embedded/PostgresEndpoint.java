package io.lethe.embedded;

/**
 * How to reach a PostgreSQL server of the stack as its superuser.
 *
 * @param host     always 127.0.0.1 for the embedded stack
 * @param port     the server's port
 * @param user     a superuser
 * @param password its password, or null where the server trusts local connections
 */
public record PostgresEndpoint(String host, int port, String user, String password) {

    /** A JDBC URL for {@code database} on this server. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "PostgresEndpoint[" + user + "@" + host + ":" + port + (password == null ? "" : ", password=******") + "]";
    }
}
