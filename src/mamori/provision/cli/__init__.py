"""CLI: mamori provision … (and `mamori provide`). Thin: parse, open a Context, call the service, render."""

from __future__ import annotations

from mamori.provision.cli.common import JSON_OPT as JSON_OPT
from mamori.provision.cli.common import _csv_list as _csv_list
from mamori.provision.cli.common import app as app
from mamori.provision.cli.common import consents_app as consents_app
from mamori.provision.cli.common import counterparties_app as counterparties_app
from mamori.provision.cli.common import joint_app as joint_app
from mamori.provision.cli.common import need as need
from mamori.provision.cli.common import optout_app as optout_app
from mamori.provision.cli.common import records_app as records_app
from mamori.provision.cli.common import referable_app as referable_app
from mamori.provision.cli.common import relay_app as relay_app
from mamori.provision.cli.common import when as when
from mamori.provision.cli.filings import joint_change as joint_change
from mamori.provision.cli.filings import joint_declare as joint_declare
from mamori.provision.cli.filings import joint_show as joint_show
from mamori.provision.cli.filings import optout_change as optout_change
from mamori.provision.cli.filings import optout_file as optout_file
from mamori.provision.cli.filings import optout_show as optout_show
from mamori.provision.cli.filings import referable_confirm as referable_confirm
from mamori.provision.cli.filings import referable_provide as referable_provide
from mamori.provision.cli.filings import relay_consent as relay_consent
from mamori.provision.cli.filings import relay_deliver as relay_deliver
from mamori.provision.cli.filings import relay_open as relay_open
from mamori.provision.cli.filings import relay_show as relay_show
from mamori.provision.cli.flows import _write_out as _write_out
from mamori.provision.cli.flows import mark_improper as mark_improper
from mamori.provision.cli.flows import provide as provide
from mamori.provision.cli.flows import purge_expired as purge_expired
from mamori.provision.cli.flows import receive as receive
from mamori.provision.cli.flows import records_list as records_list
from mamori.provision.cli.flows import records_show as records_show
from mamori.provision.cli.registry import consent_grant as consent_grant
from mamori.provision.cli.registry import consent_list as consent_list
from mamori.provision.cli.registry import consent_withdraw as consent_withdraw
from mamori.provision.cli.registry import counterparty_add as counterparty_add
from mamori.provision.cli.registry import counterparty_list as counterparty_list
from mamori.provision.cli.registry import counterparty_review as counterparty_review
from mamori.provision.cli.registry import counterparty_sheet as counterparty_sheet
from mamori.provision.cli.registry import counterparty_show as counterparty_show
