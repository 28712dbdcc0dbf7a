"""row-level security on the customer tables (issue 17): the sales row scope enforced by PostgreSQL too

Each transaction of the app sets ``mamori.row_scope`` (``all`` / ``own`` / ``team``), ``mamori.staff_id`` and
``mamori.team`` with ``set_config(..., true)`` (kernel/runtime.py, from the Context's actor). A customer row is
visible when the scope is ``all``, or it is ``own`` and the row's owner is the staff member, or ``team`` and the row's
team is theirs (``none``: nothing); a child row (contact points, attributes, activities, provenance, notified
purposes) when its customer is visible. A connection that set no scope is not restricted: it is not a transaction of
an actor (migrations, backup, the outbox drain), and every transaction of the app sets one. The settings are a
defence in depth behind the policy engine — they keep a query that forgot the rep's filter from returning another
rep's rows — not a boundary against arbitrary SQL (which could set them). FORCE binds the tables' owner too;
superusers and BYPASSRLS roles are never bound, which is why the app's role is checked at startup (kernel/db.py
check_app_role). PostgreSQL only; SQLite has no RLS.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMERS = "customers"
CHILDREN = ("contact_points", "customer_attributes", "activities", "provenance", "customer_purposes")
POLICY = "mamori_row_scope"

VISIBLE = """
CREATE OR REPLACE FUNCTION mamori_customer_visible(owner_id varchar, team varchar) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE coalesce(current_setting('mamori.row_scope', true), '')
    WHEN 'own' THEN owner_id IS NOT NULL AND owner_id = current_setting('mamori.staff_id', true)
    WHEN 'team' THEN team IS NOT NULL AND team = current_setting('mamori.team', true)
    WHEN 'none' THEN false
    ELSE true
  END
$$
"""


# The row-scope facts of one customer whatever the caller's scope (owner, team, erased), never a personal value: for
# the policy engine to tell "out of your scope" (audited as a denial under R-23-2) from "no such customer" when the
# row itself is hidden. SECURITY DEFINER runs it as the owner; it lifts the scope for its one query and puts the
# caller's back.
SCOPE_FACTS = """
CREATE OR REPLACE FUNCTION mamori_customer_scope(customer_id varchar)
RETURNS TABLE (owner_id varchar, team varchar, erased boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  previous text := coalesce(current_setting('mamori.row_scope', true), '');
BEGIN
  PERFORM set_config('mamori.row_scope', 'all', true);
  RETURN QUERY SELECT c.owner_id, c.team, c.erased_at IS NOT NULL FROM customers c WHERE c.id = $1;
  PERFORM set_config('mamori.row_scope', previous, true);
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(VISIBLE)
    op.execute(SCOPE_FACTS)
    op.execute(f"ALTER TABLE {CUSTOMERS} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {CUSTOMERS} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY} ON {CUSTOMERS} USING (mamori_customer_visible(owner_id, team)) "
        "WITH CHECK (mamori_customer_visible(owner_id, team))"
    )
    for table in CHILDREN:
        # The customers table's own policy filters the sub-select: a child is seen with its customer.
        visible = (
            "(coalesce(current_setting('mamori.row_scope', true), '') NOT IN ('own', 'team', 'none') OR EXISTS "
            f"(SELECT 1 FROM {CUSTOMERS} c WHERE c.id = {table}.customer_id))"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING {visible} WITH CHECK {visible}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*CHILDREN, CUSTOMERS):
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS mamori_customer_scope(varchar)")
    op.execute("DROP FUNCTION IF EXISTS mamori_customer_visible(varchar, varchar)")
