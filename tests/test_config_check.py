"""A wrong edit of the rule config is caught before it goes live, at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli

from config.errors import ConfigError
from config.rules_loader import load_rule_config
from config.settings import BUNDLED_RULES
from dondoc.directory import BUNDLED_DIRECTORY, read_directory_file
from notifiers.render import Renderer
from rules.policy import TEMPLATE_NAMES

DEFAULT = BUNDLED_RULES.read_text(encoding="utf-8")
AGENCIES = [a.code for a in read_directory_file(BUNDLED_DIRECTORY).agencies]


def edited(tmp_path: Path, old: str, new: str) -> tuple[Path, int, int]:
    """The default config with `old` replaced by `new`: its path, and where `new` starts."""
    assert DEFAULT.count(old) == 1, old
    text = DEFAULT.replace(old, new)
    before = text[: text.index(new)]
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path, before.count("\n") + 1, len(before) - before.rfind("\n")


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_rule_config(path, agencies=AGENCIES, templates=TEMPLATE_NAMES)
    return caught.value.problems


def test_the_default_config_is_valid_with_the_bundled_templates_and_directory() -> None:
    config = load_rule_config(BUNDLED_RULES, agencies=AGENCIES, templates=Renderer().available())
    assert set(config.policies) == {"standard", "recurring", "ongoing", "unscheduled"}


def test_a_wrong_type_names_its_line_and_what_is_expected(tmp_path: Path) -> None:
    path, line, col = edited(tmp_path, "digest: true", "digest: sometimes")
    assert problems(path) == [
        f"{path}:{line}:{col}: digest: phải là true hoặc false (must be true or false), "
        "không phải 'sometimes'"
    ]


def test_an_unknown_key_is_an_error_listing_the_allowed_keys(tmp_path: Path) -> None:
    path, line, col = edited(
        tmp_path, "      repeat: {every: 7d, max: 3}", "      repat: {every: 7d, max: 3}"
    )
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{line}:{col + 6}: policies.standard.5.repat: ")
    assert "khóa 'repat' không được hỗ trợ (unknown key)" in problem
    assert "repeat" in problem.split("allowed")[1]


def test_a_bad_offset_shows_how_offsets_are_written(tmp_path: Path) -> None:
    path, line, _ = edited(tmp_path, "      at: -14d\n", "      at: -14x\n")
    assert problems(path) == [
        f"{path}:{line}:7: policies.standard.2.at: khoảng lệch không hợp lệ '-14x': viết như "
        "-14d, -3d, 0d, +1d, -2w (an offset in days from the anchor, such as -14d, 0d, +1d)"
    ]


def test_a_number_without_a_unit_is_not_an_offset(tmp_path: Path) -> None:
    path, line, _ = edited(
        tmp_path, "      at: 0d\n      to: [lead, head]", "      at: 0\n      to: [lead, head]"
    )
    (problem,) = problems(path)
    assert problem.startswith(
        f"{path}:{line}:7: policies.standard.4.at: khoảng lệch không hợp lệ 0"
    )


def test_a_missing_template_lists_the_available_ones(tmp_path: Path) -> None:
    path, line, _ = edited(
        tmp_path,
        "      to: [lead, head]\n      template: due_today\n",
        "      to: [lead, head]\n      template: due_todya\n",
    )
    line += 1
    (problem,) = problems(path)
    assert problem.startswith(
        f"{path}:{line}:7: policies.standard.4.template: không có mẫu tin 'due_todya' "
        "(unknown template); có (available): "
    )
    assert "due_today" in problem.split("available")[1]


def test_an_unknown_agency_is_named_at_its_place_in_the_list(tmp_path: Path) -> None:
    path, line, col = edited(
        tmp_path, "      to: [head, office]", "      to: [head, office, so-khong-co]"
    )
    assert problems(path) == [
        f"{path}:{line}:{col + 25}: policies.standard.6.to.2: không có cơ quan 'so-khong-co' "
        "trong danh bạ (unknown agency); dùng lead, coordinators, head, office hoặc mã một cơ "
        "quan (or an agency code)"
    ]


def test_a_known_agency_code_is_a_valid_recipient(tmp_path: Path) -> None:
    path, _, _ = edited(tmp_path, "      to: [head, office]", "      to: [head, office, so-noi-vu]")
    config = load_rule_config(path, agencies=AGENCIES, templates=TEMPLATE_NAMES)
    assert config.policies["standard"].stages[6].to == ("head", "office", "so-noi-vu")


def test_reports_go_to_the_office_or_named_agencies_only(tmp_path: Path) -> None:
    path, line, col = edited(
        tmp_path,
        "  to: [office]\n  channels: [email]\n",
        "  to: [office, lead]\n  channels: [email]\n",
    )
    assert problems(path) == [
        f"{path}:{line}:{col + 15}: reports.to.1: không có cơ quan 'lead' trong danh bạ "
        "(unknown agency); dùng office hoặc mã một cơ quan (or an agency code)"
    ]


def test_every_deadline_kind_needs_a_policy(tmp_path: Path) -> None:
    path, _, _ = edited(tmp_path, "    ongoing: ongoing\n", "")
    (problem,) = problems(path)
    line = DEFAULT[: DEFAULT.index("  kind:\n")].count("\n") + 1
    assert problem.startswith(f"{path}:{line}:3: policy_for.kind: thiếu chính sách cho loại ")
    assert "'ongoing'" in problem


def test_a_kind_given_a_policy_that_could_never_remind_it_is_an_error(tmp_path: Path) -> None:
    path, line, _ = edited(tmp_path, "    ongoing: ongoing\n", "    ongoing: standard\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{line}:5: policy_for.kind.ongoing: chính sách 'standard'")
    assert "periodic stage" in problem


def test_an_unknown_policy_name_lists_the_defined_ones(tmp_path: Path) -> None:
    path, line, _ = edited(tmp_path, "  plan: {}", "  plan: {nq131: strict}")
    assert problems(path) == [
        f"{path}:{line}:10: policy_for.plan.nq131: không có chính sách 'strict' (unknown "
        "policy); có (defined): standard, recurring, ongoing, unscheduled"
    ]


def test_all_problems_of_a_file_come_at_once_in_file_order(tmp_path: Path) -> None:
    text = DEFAULT.replace("digest: true", "digest: 3").replace(
        "      template: checkin", "      template: checkin\n      colour: red"
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    found = problems(path)
    assert len(found) == 2
    assert ": digest: " in found[0]
    assert ": policies.ongoing.0.colour: " in found[1]
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)


def test_a_stage_needs_exactly_one_of_at_and_every(tmp_path: Path) -> None:
    path, line, _ = edited(tmp_path, "      every: 1 month\n      day: 25\n", "      day: 25\n")
    (problem,) = problems(path)
    assert "policies.ongoing.0: mỗi bước cần đúng một trong hai: 'at'" in problem
    assert problem.startswith(f"{path}:{line - 1}:7:")


def test_broken_yaml_and_a_duplicated_key_are_located(tmp_path: Path) -> None:
    path, line, _ = edited(tmp_path, "digest: true", "digest: [true")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:") and "YAML không hợp lệ" in problem
    path, line, _ = edited(tmp_path, "digest: true", "digest: true\ndigest: false")
    assert problems(path) == [f"{path}:{line + 1}:1: khóa 'digest' bị lặp lại (duplicate key)"]


# --- The command ------------------------------------------------------------------------


def test_config_check_accepts_the_default_and_says_it_skipped_agencies_without_a_store(
    cli: Cli,
) -> None:
    result = cli("config", "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Hợp lệ (valid): {BUNDLED_RULES}")
    assert "chính sách standard: 7 bước" in result.stdout
    assert "bỏ qua kiểm tra mã cơ quan" in result.stdout


def test_config_check_prints_each_problem_as_file_line_col_and_exits_2(
    initialized_cli: Cli, tmp_path: Path
) -> None:
    path, line, _ = edited(tmp_path, "      to: [head, office]", "      to: [head, so-khong-co]")
    result = initialized_cli("config", "check", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    stderr = result.stderr.splitlines()
    assert stderr[0] == f"Tệp quy tắc {path} có 1 lỗi (1 problems):"
    assert stderr[1].startswith(f"{path}:{line}:")
    assert "không có cơ quan 'so-khong-co' trong danh bạ" in stderr[1]
    good, _, _ = edited(tmp_path, "      to: [head, office]", "      to: [head, so-noi-vu]")
    accepted = initialized_cli("config", "check", str(good))
    assert accepted.exit_code == 0, accepted.stderr
    assert "bỏ qua" not in accepted.stdout


def test_an_acknowledgement_timeout_no_longer_than_a_repeat_is_refused(tmp_path: Path) -> None:
    # With ack_timeout equal to the weekly repeat, "Đã nhận" on 01/12 only delays the
    # 08/12 repeat by a few hours: the acknowledgement would silence nothing.
    path, line, _ = edited(tmp_path, "ack_timeout: 45d", "ack_timeout: 30d")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{line}:1: ack_timeout: phải dài hơn khoảng lặp dài nhất")
    assert "30d" in problem
