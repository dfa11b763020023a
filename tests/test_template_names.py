"""The templates a rule config may name, found without Jinja: the names Jinja's loader
lists for the same folders."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from notifiers.render import Renderer
from notifiers.template_names import BUNDLED_TEMPLATES, LOCALES, available_templates


def listed_by_jinja(templates_dir: Path | None) -> set[str]:
    """What Renderer.available() computed from Jinja's own listing before."""
    search = [str(BUNDLED_TEMPLATES)]
    if templates_dir is not None:
        search.insert(0, str(templates_dir))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(search))
    names: list[set[str]] = []
    for locale in LOCALES:
        names.append(
            {
                name.split("/", 1)[1].removesuffix(".j2")
                for name in env.list_templates(extensions=["j2"])
                if name.startswith(f"{locale}/") and not name.split("/", 1)[1].startswith("_")
            }
        )
    return set.intersection(*names) - {"chat"}


@pytest.fixture
def office_templates(tmp_path: Path) -> Path:
    """An office's folder: an override, new templates in one or both locales, a partial,
    a subfolder, a file of another kind and a link to a folder elsewhere."""
    folder = tmp_path / "templates"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "linked.j2").write_text("x", encoding="utf-8")
    for locale in LOCALES:
        (folder / locale / "sub").mkdir(parents=True)
        for name in ("overdue.j2", "weekly_note.j2", "_private.j2", "sub/nested.j2", "a.txt"):
            (folder / locale / name).write_text("x", encoding="utf-8")
        os.symlink(elsewhere, folder / locale / "link", target_is_directory=True)
    (folder / "vi" / "only_vietnamese.j2").write_text("x", encoding="utf-8")
    return folder


def test_the_bundled_templates_are_those_jinja_lists() -> None:
    assert available_templates() == listed_by_jinja(None)
    assert {"upcoming", "overdue", "set_deadline"} <= available_templates()


def test_an_office_folder_adds_what_both_locales_have(office_templates: Path) -> None:
    found = available_templates(office_templates)
    assert found == listed_by_jinja(office_templates)
    assert {"weekly_note", "sub/nested"} <= found
    assert not {"only_vietnamese", "_private", "a.txt", "a", "link/deep/linked"} & found
    assert Renderer(templates_dir=office_templates).available() == found
