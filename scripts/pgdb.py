"""Create or drop a PostgreSQL database: `python scripts/pgdb.py create|drop URL NAME`."""

import sys

import psycopg

action, url, name = sys.argv[1:4]
with psycopg.connect(url, autocommit=True) as conn:
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
