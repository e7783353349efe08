-- Reverts 0001.schema.sql: drops every table it created, children first.
drop table comments;
drop table issues;
drop table projects;
drop table users;
drop table customers;
drop extension if exists pg_trgm;
