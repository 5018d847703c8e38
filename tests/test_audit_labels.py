"""Every action and object type the code records has words in the audit log
(audit/labels.py), in both languages: a code shown raw was the "untranslated audit strings"
a tester saw."""

from __future__ import annotations

import ast

from django.apps import apps
from django.utils import translation

from audit.labels import ACTIONS, OBJECT_TYPES
from tests.support import ROOT

WRITERS = {"record", "new_entry", "record_changes"}
APPS = ("accounts", "audit", "domains", "mailboxes", "selfservice", "sieve", "transfer")
# Models no service audits: rows kept for the others, or written by Dovecot.
NOT_AUDITED = {
    "auditentry",
    "aliasdestination",
    "domainusage",
    "mailboxlogin",
    "quotausage",
    "importjob",
}


def recorded_actions() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name not in WRITERS:
                    continue
                for keyword in node.keywords:
                    if keyword.arg != "action":
                        continue
                    for value in ast.walk(keyword.value):
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            found.add(value.value)
    return found


def test_every_recorded_action_has_a_label() -> None:
    actions = recorded_actions()
    assert {"create", "update", "unthrottle", "owner_access"} <= actions
    assert actions <= set(ACTIONS), sorted(actions - set(ACTIONS))


def test_every_audited_model_has_a_label() -> None:
    models = {
        str(model._meta.model_name)
        for app in APPS
        for model in apps.get_app_config(app).get_models()
    }
    audited = models - NOT_AUDITED
    assert audited <= set(OBJECT_TYPES), sorted(audited - set(OBJECT_TYPES))


def test_the_labels_are_translated() -> None:
    with translation.override("en"):
        english = {
            code: str(label) for labels in (ACTIONS, OBJECT_TYPES) for code, label in labels.items()
        }
    with translation.override("uk"):
        same = [
            code
            for labels in (ACTIONS, OBJECT_TYPES)
            for code, label in labels.items()
            if str(label) == english[code]
        ]
    assert not same, same
