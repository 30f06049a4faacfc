"""The playbook: packs (a folder of pack.toml, rules, templates and fixtures), how they are found,
read and checked, and the schema each one declares."""
