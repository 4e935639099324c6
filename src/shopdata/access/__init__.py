"""Team access control: the policy (``matrix.yaml``), its audit, and people's login roles.

* :mod:`shopdata.access.matrix`: the policy file and its flat list of decisions (cells);
* :mod:`shopdata.access.audit` and :mod:`shopdata.access.people_audit`: a live cluster compared
  with the policy (``shopdata db audit-access``);
* :mod:`shopdata.access.users`: ``shopdata db add-user``; :mod:`shopdata.access.sessions`:
  ``shopdata db sessions``.

The SQL they run is under ``sql/`` beside them; the roles themselves are created by
``shopdata/salesdb/sql/initdb/090_roles.sql``. See docs/access.md.
"""
