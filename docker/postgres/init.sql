-- The example schema of the compose setup: a products table and a role for Lethe.
CREATE ROLE lethe LOGIN REPLICATION PASSWORD 'lethe';
CREATE TABLE products (
  id int PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  price int NOT NULL,
  version int NOT NULL DEFAULT 1
);
-- slug is a key-template column outside the primary key: updates must carry the old row.
ALTER TABLE products REPLICA IDENTITY FULL;
ALTER TABLE products OWNER TO lethe;
INSERT INTO products (id, slug, name, price)
  SELECT i, 'p-' || i, 'Product ' || i, 100 + i % 900 FROM generate_series(1, 1000) i;
