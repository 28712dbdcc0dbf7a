"""The data map (issue 24, item 5; seed 002: データフローと保管場所の可視化): where each data category is stored, who
it goes to, under which basis, and what leaves Japan — drawn from the registries, never typed by hand.

Nodes: ourselves (``self``, the operator's name from the settings), the persons (``person``), each counterparty
data goes to or comes from (``counterparty:<id>``: third party, outsourcee, joint user, successor — an
organisation, never a person), each approved sub-outsourcee (``subcontract:<id>``) and each store (``store:…``).

Stores:

- one per registered **subject data source** (``kernel.registry``: what each slice registered to list, export,
  correct and erase a person's data). The registry holds each source's name and methods only; its tables are the
  slice's own tables (its models), and its data categories are known for the customers slice (from the data
  dictionary of the inventory: each field's and attribute key's APPI category). Other sources' categories are
  left empty and a note says so.
- one per **storage location** of the inventory (database, backup, file share, cloud …) with its categories,
  purposes, country and whether its provider handles the data (R-28-4).

Flows (each with categories, items, purposes, the basis in both languages, the rule ids, and ``cross_border``:
the country when the recipient is abroad, with the R-28-1 safeguard):

- ``collection``: the persons → the customers store (the categories of the dictionary; R-20-1, R-21-1);
- ``receipt`` / ``succession``: a provider → the customers store (R-30-1, R-18-2);
- provisions made, grouped by recipient, basis and purpose (``consent``, ``exception``, ``opt_out``,
  ``joint_use``; R-27-1, R-27-4, R-29-1), and third parties a person consented to be provided to where nothing
  was provided yet;
- ``entrustment``: each outsourcee contract not ended, with the fields it covers and the customers it covers
  (R-25-1, R-27-2 (a)); provisions made as entrustment are counted on it;
- ``sub_entrustment``: each approved sub-outsourcing of such a contract;
- ``joint_use``: each declared joint use to each joint user (R-27-2 (c));
- ``opt_out``: each opt-out provision filed and not stopped (R-27-4);
- ``storage``: a storage location whose provider handles the data (R-28-4, R-23-7).

Organisation names, codes, field names and counts only. Audited ``analytics.datamap`` with the counts.
Authorisation: ``analytics.governance`` (privacy officer, administrator).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from mamori.analytics import queries
from mamori.analytics.kpi_schemas import (
    DataMap,
    DataStore,
    Finding,
    Flow,
    FlowBasis,
    MapNode,
    NodeKind,
    PurposeNode,
)
from mamori.analytics.permissions import ANALYTICS_GOVERNANCE
from mamori.customers import queries as customers_queries
from mamori.inventory import queries as inventory_queries
from mamori.inventory import service as inventory_service
from mamori.inventory.schemas import HOME_COUNTRY
from mamori.inventory.service.ropa import safeguard as safeguard_words
from mamori.kernel import registry
from mamori.kernel.auditing import authorise, record_info
from mamori.kernel.clock import ensure_aware
from mamori.kernel.context import Context
from mamori.kernel.db import Base
from mamori.kernel.policy import Resource
from mamori.processors import queries as processors_queries
from mamori.provision.models import Counterparty, CounterpartyInfoSheet
from mamori.purposes import service as purposes_service

A_DATAMAP = "analytics.datamap"
RESOURCE = Resource(kind="analytics_governance")
SELF = "self"
PERSON = "person"
CUSTOMERS_SOURCE = "customers"

BASIS_WORDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "collection": (
        "本人からの取得（利用目的を通知・公表）",
        "collected from the person (purposes notified)",
        ("R-20-1", "R-21-1"),
    ),
    "consent": ("本人の同意による第三者提供", "provision to a third party with consent", ("R-27-1",)),
    "exception": ("法令に基づく等の例外による提供", "provision under a statutory exception", ("R-27-1",)),
    "opt_out": (
        "オプトアウトによる第三者提供（届出済み）",
        "opt-out provision (filed with the PPC)",
        ("R-27-4",),
    ),
    "joint_use": ("共同利用（事前に通知・公表）", "joint use (notified in advance)", ("R-27-2",)),
    "entrustment": ("委託（委託契約に基づく）", "entrustment (under a contract)", ("R-25-1", "R-27-2")),
    "sub_entrustment": ("再委託（承認済み）", "sub-entrustment (approved)", ("R-25-1",)),
    "succession": ("事業の承継", "business succession", ("R-27-2", "R-18-2")),
    "receipt": (
        "第三者からの受領（確認・記録）",
        "received from a provider (confirmed and recorded)",
        ("R-30-1", "R-30-2"),
    ),
    "storage": (
        "保管の委託（提供先がデータを取り扱う）",
        "storage where the provider handles the data",
        ("R-28-4", "R-23-7"),
    ),
}
SOURCE_WORDS: dict[str, tuple[str, str]] = {
    "customers": (
        "顧客情報（プロフィール・連絡先・属性・対応履歴・取得経路）",
        "customers (profile, contacts, attributes, activities, provenance)",
    ),
    "consent": ("同意の台帳", "the consent ledger"),
    "provision": ("第三者提供・受領の記録", "provision and receipt records"),
    "processors": ("委託先への引渡しの記録", "handovers to outsourcees"),
    "contact": ("連絡・メール配信の記録", "contact lists and campaign sends"),
    "incidents": ("漏えい等事案の対象者", "people in incidents' scope"),
    "analytics": ("分析のセグメント", "analysis segments"),
    "deid": ("仮名加工・匿名加工", "pseudonymised and anonymised data"),
}
KIND_NODE: dict[str, NodeKind] = {
    "third_party": "third_party",
    "outsourcee": "outsourcee",
    "joint_user": "joint_user",
    "succession": "succession",
}


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _words(text: str) -> tuple[str, str]:
    """The inventory's 「日本語 / English」 safeguard in its two halves."""
    ja, sep, en = text.partition(" / ")
    return (ja, en) if sep else (text, text)


def _tables_of(slice_name: str) -> list[str]:
    """The tables a slice's models define (a subject source's tables: the registry does not list them)."""
    module = f"mamori.{slice_name}.models"
    names = {
        getattr(m.local_table, "name", None) for m in Base.registry.mappers if m.class_.__module__ == module
    }
    return sorted(str(n) for n in names if n)


@dataclass
class _Provided:
    """Provisions to one recipient on one basis, summed."""

    items: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    persons: int = 0
    last: datetime | None = None


_PROVISION_BASES: dict[str, FlowBasis] = {
    "consent": "consent",
    "exception": "exception",
    "opt_out": "opt_out",
    "joint_use": "joint_use",
    "entrustment": "entrustment",
    "succession": "succession",
}


def _basis(code: str) -> FlowBasis:
    """A provision's basis as a flow basis (an unknown code is shown as a statutory exception)."""
    return _PROVISION_BASES.get(code, "exception")


class _Map:
    """Collects nodes and flows; every counterparty becomes one node."""

    def __init__(
        self, ctx: Context, counterparties: dict[str, Counterparty], sheets: dict[str, CounterpartyInfoSheet]
    ):
        self.ctx = ctx
        self.counterparties = counterparties
        self.sheets = sheets
        self.nodes: dict[str, MapNode] = {}
        self.flows: list[Flow] = []

    def node(self, node_id: str, kind: NodeKind, name: str, country: str | None = None) -> str:
        self.nodes.setdefault(node_id, MapNode(id=node_id, kind=kind, name=name, country=country))
        return node_id

    def party(self, counterparty_id: str) -> str | None:
        cp = self.counterparties.get(counterparty_id)
        if cp is None:
            return None
        return self.node(f"counterparty:{cp.id}", KIND_NODE.get(cp.kind, "third_party"), cp.name, cp.country)

    def flow(
        self,
        source: str,
        target: str,
        basis: FlowBasis,
        *,
        items: list[str],
        categories: list[str],
        purposes: list[str] | None = None,
        count: int | None = None,
        last_at: datetime | None = None,
        abroad: Counterparty | None = None,
        country: str | None = None,
    ) -> Flow:
        ja, en, rules = BASIS_WORDS[basis]
        cross = country if country is not None else (abroad.country if abroad is not None else None)
        safeguard: tuple[str | None, str | None] = (None, None)
        if cross is not None and cross != HOME_COUNTRY:
            if abroad is not None:
                safeguard = _words(safeguard_words(self.ctx, abroad, self.sheets.get(abroad.id)))
        else:
            cross = None
        flow = Flow(
            id=f"f{len(self.flows) + 1}",
            from_=source,
            to=target,
            categories=categories,
            items=items,
            purposes=purposes or [],
            basis=basis,
            basis_ja=ja,
            basis_en=en,
            cross_border=cross,
            safeguard_ja=safeguard[0],
            safeguard_en=safeguard[1],
            rule_ids=list(rules),
            count=count,
            last_at=ensure_aware(last_at) if last_at is not None else None,
        )
        self.flows.append(flow)
        return flow


def data_map(ctx: Context) -> DataMap:
    """Where each category is stored, who it goes to and under which basis (``analytics.governance``); audited."""
    authorise(ctx, ANALYTICS_GOVERNANCE, RESOURCE)
    s = ctx.session
    counterparties = {c.id: c for c in s.execute(inventory_queries.counterparties()).scalars()}
    sheets = {sh.counterparty_id: sh for sh in s.execute(inventory_queries.latest_sheets()).scalars()}
    m = _Map(ctx, counterparties, sheets)
    english = ctx.lang == "en"
    operator = (ctx.runtime.settings.operator_name or "").strip() or ("our company" if english else "当社")
    m.node(SELF, "self", operator, HOME_COUNTRY)
    m.node(PERSON, "person", "the persons (customers)" if english else "本人（顧客）")
    dictionary = inventory_service.dictionary(ctx)
    category_of = {i.key: ("sensitive" if i.sensitive else i.appi_category.value) for i in dictionary}

    def cats(items: list[str]) -> list[str]:
        return sorted({category_of[i] for i in items if i in category_of})

    notes: list[Finding] = []
    purposes = purposes_service.list_purposes(ctx, include_retired=False)

    # -- stores --------------------------------------------------------------------------------------------------
    stores: list[DataStore] = []
    for registered in sorted(registry.sources(), key=lambda src: (src.name != CUSTOMERS_SOURCE, src.name)):
        label_ja, label_en = SOURCE_WORDS.get(registered.name, (registered.name, registered.name))
        store = DataStore(
            id=f"source:{registered.name}",
            kind="source",
            name=registered.name,
            label_ja=label_ja,
            label_en=label_en,
            tables=_tables_of(registered.name),
            categories=sorted(set(category_of.values())) if registered.name == CUSTOMERS_SOURCE else [],
        )
        stores.append(store)
        m.node(f"store:{store.id}", "store", label_en if english else label_ja, HOME_COUNTRY)
    notes.append(
        Finding(
            ja="本人のデータの登録簿（subject data sources）には各スライスの名前だけが登録されています。テーブルは各スライスの"
            "モデルから、データ区分は顧客情報のみデータ項目の辞書から示しています。",
            en="The registry of subject data sources holds each slice's name only: tables come from the slices' "
            "models, and data categories are shown for the customers store only (from the data dictionary).",
        )
    )
    locations = list(s.execute(inventory_queries.locations(False)).scalars())
    for loc in locations:
        store = DataStore(
            id=f"location:{loc.code}",
            kind="location",
            name=loc.name,
            label_ja=loc.name,
            label_en=loc.name,
            categories=_split(loc.categories),
            purposes=_split(loc.purposes),
            country=loc.country,
            region=loc.region,
            handles_data=loc.handles_data,
        )
        stores.append(store)
        m.node(f"store:{store.id}", "store", loc.name, loc.country)
        if loc.handles_data and loc.counterparty_id and (target := m.party(loc.counterparty_id)):
            m.flow(
                SELF,
                target,
                "storage",
                items=[],
                categories=_split(loc.categories),
                purposes=_split(loc.purposes),
                abroad=counterparties.get(loc.counterparty_id),
                country=loc.country,
            )
    if not locations:
        notes.append(
            Finding(
                ja="保管場所が登録されていません（mamori inventory）。",
                en="No storage location is registered (mamori inventory).",
            )
        )

    # -- into our stores -----------------------------------------------------------------------------------------
    customers_store = f"store:source:{CUSTOMERS_SOURCE}"
    collected = [i.key for i in dictionary if i.in_use]
    m.flow(
        PERSON,
        customers_store,
        "collection",
        items=collected,
        categories=cats(collected),
        purposes=[p.code for p in purposes],
        count=int(s.execute(customers_queries.live_customers()).scalar_one()),
    )
    for cp_id, variant, received_items, _n, persons, last in s.execute(queries.receipts_by_provider()).all():
        provider = m.party(cp_id)
        if provider is None:
            continue
        listed = _split(received_items)
        m.flow(
            provider,
            customers_store,
            "succession" if variant == "succession" else "receipt",
            items=listed,
            categories=cats(listed),
            count=int(persons or 0),
            last_at=last,
        )

    # -- outsourcees --------------------------------------------------------------------------------------------
    contracts = list(s.execute(inventory_queries.open_contracts()).scalars())
    covered = (
        dict(s.execute(processors_queries.customer_counts([c.id for c in contracts])).all())
        if contracts
        else {}
    )
    by_party: dict[str, Flow] = {}
    for contract in contracts:
        target = m.party(contract.counterparty_id)
        if target is None:
            continue
        fields = list(contract.fields or [])
        by_party[contract.counterparty_id] = m.flow(
            SELF,
            target,
            "entrustment",
            items=fields,
            categories=cats(fields),
            purposes=list(contract.purposes or []),
            count=int(covered.get(contract.id, 0)),
            abroad=counterparties.get(contract.counterparty_id),
        )
    for sub, contract in s.execute(inventory_queries.approved_subcontracts()).all():
        outsourcee = m.party(contract.counterparty_id)
        if outsourcee is None:
            continue
        sub_node = m.node(f"subcontract:{sub.id}", "sub_outsourcee", sub.subcontractor, sub.country)
        fields = list(contract.fields or [])
        flow = m.flow(
            outsourcee,
            sub_node,
            "sub_entrustment",
            items=fields,
            categories=cats(fields),
            purposes=list(contract.purposes or []),
            country=sub.country,
        )
        if flow.cross_border:
            flow.safeguard_ja = "外国の再委託先: 委託元の R-28-1 の根拠が必要"
            flow.safeguard_en = "sub-outsourcee abroad: an R-28-1 basis is needed"

    # -- provisions -------------------------------------------------------------------------------------------
    provided: set[tuple[str, str]] = set()
    grouped: dict[tuple[str, str], _Provided] = {}
    for cp_id, basis, purpose, given, _n, persons, last in s.execute(queries.provisions_by_recipient()).all():
        provided.add((cp_id, purpose))
        at = ensure_aware(last)
        if basis == "entrustment" and cp_id in by_party:
            flow = by_party[cp_id]
            flow.last_at = at if flow.last_at is None else max(flow.last_at, at)
            continue
        entry = grouped.setdefault((cp_id, basis), _Provided())
        entry.items.update(_split(given))
        entry.purposes.add(purpose)
        entry.persons += int(persons or 0)
        entry.last = at if entry.last is None else max(entry.last, at)
    for (cp_id, basis), entry in sorted(grouped.items()):
        target = m.party(cp_id)
        if target is None:
            continue
        provided_items = sorted(entry.items)
        m.flow(
            SELF,
            target,
            _basis(basis),
            items=provided_items,
            categories=cats(provided_items),
            purposes=sorted(entry.purposes),
            count=entry.persons,
            last_at=entry.last,
            abroad=counterparties.get(cp_id),
        )
    categories_of_purpose = {p.code: sorted(c.value for c in p.categories) for p in purposes}
    waiting: dict[str, set[str]] = defaultdict(set)
    for cp_id, purpose in s.execute(inventory_queries.provided_pairs()).all():
        cp = counterparties.get(cp_id)
        if cp is not None and cp.kind == "third_party" and (cp_id, purpose) not in provided:
            waiting[cp_id].add(purpose)
    for cp_id, codes in sorted(waiting.items()):
        target = m.party(cp_id)
        if target is None:
            continue
        m.flow(
            SELF,
            target,
            "consent",
            items=[],
            categories=sorted({c for code in codes for c in categories_of_purpose.get(code, [])}),
            purposes=sorted(codes),
            abroad=counterparties.get(cp_id),
        )

    # -- joint use and opt-out ----------------------------------------------------------------------------------
    for decl in s.execute(inventory_queries.joint_uses()).scalars():
        shared = _split(decl.items)
        for member in _split(decl.member_ids):
            joint_user = m.party(member)
            if joint_user is not None:
                m.flow(
                    SELF,
                    joint_user,
                    "joint_use",
                    items=shared,
                    categories=cats(shared),
                    purposes=_split(decl.purposes),
                    abroad=counterparties.get(member),
                )
    for filing in s.execute(queries.opt_out_filings()).scalars():
        items = _split(filing.items)
        target = m.party(filing.counterparty_id) if filing.counterparty_id else None
        if target is None:
            target = m.node(
                f"opt_out:{filing.id}", "third_party", "オプトアウトの提供先 / opt-out recipients"
            )
        m.flow(
            SELF,
            target,
            "opt_out",
            items=items,
            categories=cats(items),
            purposes=[filing.purpose],
            abroad=counterparties.get(filing.counterparty_id or ""),
        )

    abroad = sorted({f.cross_border for f in m.flows if f.cross_border})
    if abroad:
        notes.append(
            Finding(
                ja=f"外国に移転するデータがあります: {', '.join(abroad)}（公表事項で国名を示します、R-23-7）。",
                en=f"Data goes abroad: {', '.join(abroad)} (named in the published notice, R-23-7).",
            )
        )
    result = DataMap(
        generated_at=ctx.clock.now(),
        nodes=list(m.nodes.values()),
        stores=stores,
        flows=m.flows,
        purposes=[
            PurposeNode(
                code=p.code,
                title_ja=p.title_ja,
                title_en=p.title_en,
                categories=[c.value for c in p.categories],
                third_party=p.third_party,
                profiling=p.profiling,
            )
            for p in purposes
        ],
        notes=notes,
    )
    record_info(
        ctx,
        A_DATAMAP,
        details={
            "stores": len(stores),
            "flows": len(m.flows),
            "cross_border": sum(1 for f in m.flows if f.cross_border),
            "counterparties": sum(1 for n in m.nodes.values() if n.id.startswith("counterparty:")),
        },
    )
    return result
