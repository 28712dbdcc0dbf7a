"""Mutants of the inventory slice: storage locations (R-23-7, R-28-4), the data dictionary's tags (R-2.3-1, G-6),
the generated ROPA (G-30) and who may tag items (R-23-2)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

LOCATIONS = "inventory/service/locations.py"
ITEMS = "inventory/service/items.py"
ROPA = "inventory/service/ropa.py"
COMMON = "inventory/service/common.py"
CLI = "tests/inventory/test_cli.py"
API = "tests/inventory/test_api.py"

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "R-23-7",
        LOCATIONS,
        '    if row.country != HOME_COUNTRY and not (row.foreign_note or "").strip():\n',
        "    if False:\n",
        (
            f"{CLI}::test_location_abroad_needs_the_understanding_of_the_foreign_system_R_23_7",
            f"{API}::test_api_locations_refuse_foreign_without_note_and_handling_without_link_R_23_7_R_28_4",
        ),
        "a storage location abroad is saved without the understanding of the foreign system",
    ),
    Mutant(
        "R-23-7",
        ROPA,
        "    for loc in reg.locations:\n        if loc.country != HOME_COUNTRY:\n",
        "    for loc in reg.locations:\n        if False:\n",
        (f"{CLI}::test_countries_list_foreign_counterparties_and_storage_R_23_7",),
        "the list of foreign countries leaves out storage locations abroad",
    ),
    Mutant(
        "R-28-4",
        LOCATIONS,
        '    if (row.handles_data or row.kind == "outsourcee_system") and row.counterparty_id is None:\n',
        "    if False:\n",
        (
            f"{CLI}::test_handling_cloud_provider_is_linked_to_its_counterparty_R_28_4",
            f"{API}::test_api_locations_refuse_foreign_without_note_and_handling_without_link_R_23_7_R_28_4",
        ),
        "a provider that handles the data is registered without its counterparty (outsourcee / third party)",
    ),
    Mutant(
        "R-28-4",
        LOCATIONS,
        "        if cp.kind not in RECIPIENT_KINDS:\n",
        "        if False:\n",
        (f"{CLI}::test_handling_cloud_provider_is_linked_to_its_counterparty_R_28_4",),
        "a storage location links to a counterparty that is neither an outsourcee nor a third party",
    ),
    Mutant(
        "R-28-4",
        ROPA,
        "        if loc.handles_data and cp is not None and cp.id not in listed:\n",
        "        if False:\n",
        (f"{API}::test_api_ropa_and_countries_are_generated_from_the_registries_G_30_G_6",),
        "the ROPA does not list a provider that handles the data where it is stored as a recipient",
    ),
    Mutant(
        "G-6",
        ITEMS,
        "    if expected and not (tags & expected):\n",
        "    if False:\n",
        (
            f"{CLI}::test_data_dictionary_tags_both_regimes_R_2_3_1_G_6",
            f"{API}::test_api_ropa_and_countries_are_generated_from_the_registries_G_30_G_6",
        ),
        "a 要配慮 item is tagged without its GDPR counterpart (犯罪の経歴 without Art. 10, 病歴 without Art. 9 health)",
    ),
    Mutant(
        "R-2.3-1",
        ITEMS,
        "    if (data.appi_category == Category.SENSITIVE) != (data.sensitive_kind is not None):\n",
        "    if False:\n",
        (
            f"{CLI}::test_data_dictionary_tags_both_regimes_R_2_3_1_G_6",
            f"{API}::test_api_bad_input_is_422_without_echo",
        ),
        "the 要配慮 category and the 要配慮 kind of a data item may disagree",
    ),
    Mutant(
        "G-30",
        ROPA,
        "    covering = [c for c in reg.contracts if purpose in (c.purposes or [])]\n",
        "    covering: list[ProcessorContract] = []\n",
        (
            f"{CLI}::test_ropa_is_generated_from_purposes_outsourcees_and_storage_G_30",
            f"{API}::test_api_ropa_and_countries_are_generated_from_the_registries_G_30_G_6",
        ),
        "the ROPA leaves out the outsourcees (委託先) of a processing activity",
    ),
    Mutant(
        "G-30",
        ROPA,
        "    stored = [loc for loc in reg.locations if _holds(loc, purpose)]\n",
        "    stored: list[StorageLocation] = []\n",
        (
            f"{CLI}::test_ropa_is_generated_from_purposes_outsourcees_and_storage_G_30",
            f"{API}::test_api_ropa_and_countries_are_generated_from_the_registries_G_30_G_6",
        ),
        "the ROPA leaves out where each activity's data is stored (and the providers handling it there)",
    ),
    Mutant(
        "R-23-2",
        COMMON,
        'def can_tag(ctx: Context) -> None:\n    authorise(ctx, Action.INVENTORY_TAG, Resource(kind="inventory"))\n',
        'def can_tag(ctx: Context) -> None:\n    authorise(ctx, Action.INVENTORY_READ, Resource(kind="inventory"))\n',
        (
            f"{CLI}::test_only_the_privacy_officer_and_the_administrator_reach_the_inventory_R_23_2",
            f"{API}::test_api_inventory_role_matrix_R_23_2",
        ),
        "anyone who may read the inventory may tag data items (the administrator too)",
    ),
)
