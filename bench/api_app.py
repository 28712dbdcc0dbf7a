"""The app the API benchmark serves: mamori's real app plus, for comparison only, the same customer read with
policy and audit switched off (same auth, same decryption, same response shape). Never mounted in the product."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Path

from mamori.api.app import API, create_app
from mamori.customers import queries
from mamori.customers.schemas import SCALAR_FIELDS, CustomerView
from mamori.kernel.errors import NotFound
from mamori.kernel.http.deps import PlainContext


def create() -> FastAPI:
    app = create_app()

    @app.get(API + "/bench-baseline/customers/{customer_id}", response_model=CustomerView)
    def baseline_read(
        ctx: PlainContext, customer_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
    ) -> CustomerView:
        row = ctx.session.execute(queries.customer(customer_id)).scalar_one_or_none()
        if row is None:
            raise NotFound("not found", "not found")
        cipher = ctx.runtime.cipher
        values = {
            f: cipher.decrypt(row.id, "customers", f, row.id, getattr(row, f"{f}_enc"))
            for f in SCALAR_FIELDS
            if getattr(row, f"{f}_enc") is not None
        }
        phones, emails = [], []
        for cp in ctx.session.execute(queries.contact_points([row.id])).scalars():
            value = cipher.decrypt(row.id, "contact_points", "value", cp.id, cp.value_enc)
            (phones if cp.kind == "phone" else emails).append(value)
        return CustomerView(
            id=row.id,
            owner_id=row.owner_id,
            origin=row.origin,
            purpose="",
            phones=phones,
            emails=emails,
            version=row.version,
            **values,
        )  # type: ignore[arg-type]

    return app
