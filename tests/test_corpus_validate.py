"""`madoguchi faq validate`: passes on the corpus, fails usefully on each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main

GOOD_ENTRY = {
    "id": "sample-entry",
    "category": "extra",
    "department": "shimin",
    "questions": {
        "ja": ["住民票はどこで取れますか？", "住民票 取り方"],
        "en": ["Where do I get a residence certificate?"],
        "zh": ["在哪里开住民票？"],
        "ko": ["주민표는 어디서 떼요?"],
        "vi": ["Lấy giấy chứng nhận cư trú ở đâu?"],
        "pt": ["Onde tiro o atestado de residência?"],
    },
    "answer": {
        "ja": "{dept.shimin.name}（{dept.shimin.counter}）で請求できます。",
        "en": "At {dept.shimin.name}.",
        "zh": "在{dept.shimin.name}办理。",
        "ko": "{dept.shimin.name}에서 신청할 수 있습니다.",
        "vi": "Tại {dept.shimin.name}.",
        "pt": "No {dept.shimin.name}.",
    },
    "links": [
        {
            "title": {
                "ja": "証明書",
                "en": "Certificates",
                "zh": "证明书",
                "ko": "증명서",
                "vi": "Giấy chứng nhận",
                "pt": "Certidões",
            },
            "url": "{pages.certificates}",
        }
    ],
    "source": "https://www.soumu.go.jp/",
    "reviewed": "2026-11-20",
}


def validate(faq_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(
        [
            "faq",
            "validate",
            "--corpus",
            str(faq_dir / "corpus"),
            "--profile",
            str(faq_dir / "municipality.yml"),
        ]
    )
    out = capsys.readouterr()
    return code, out.out + out.err


def write_extra(faq_dir: Path, *entries: dict, name: str = "extra.yml") -> None:
    (faq_dir / "corpus" / name).write_text(
        yaml.safe_dump({"entries": list(entries)}, allow_unicode=True), encoding="utf-8"
    )


def test_the_project_corpus_is_valid(faq_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = validate(faq_copy, capsys)
    assert code == 0, out
    assert out.startswith("ok: ")


def test_a_good_new_entry_passes(faq_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_extra(faq_copy, GOOD_ENTRY)
    code, out = validate(faq_copy, capsys)
    assert code == 0, out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"answer": {"ja": "電話は {dept.nowhere.phone} へ"}},
            "unknown placeholder {dept.nowhere.phone}",
        ),
        ({"answer": {"en": "English only"}}, "missing Japanese answer"),
        ({"reviewed": "2026-13-40"}, "is not a date"),
        ({"id": "Sample_Entry"}, "must be kebab-case"),
        ({"category": "other"}, "does not match the file name"),
        ({"department": "nosuchdept"}, "unknown department"),
        ({"answer": {"ja": "市民課 03-1234-5678 までお電話ください"}}, "phone number 03-1234-5678"),
        ({"answer": {"ja": "詳しくは https://www.city.example.jp/ を見てください"}}, "web address"),
        ({"answer": {"ja": "相談は #1234 へ"}}, "phone number #1234"),
        ({"source": "not a url"}, "is not a web address"),
        ({"questions": {"en": ["English only?"]}}, "missing Japanese questions"),
        ({"answer": {"ja": "ok", "fr": "non"}}, "unsupported language 'fr'"),
        ({"answer": {"ja": "ok", "en": "ok"}}, "answer missing in zh, ko, vi, pt"),
        (
            {"questions": {**GOOD_ENTRY["questions"], "vi": []}},
            "questions missing in vi",
        ),
        (
            {"links": [{"title": {"ja": "証明書", "en": "x"}, "url": "{pages.certificates}"}]},
            "link #1 title missing in zh, ko, vi, pt",
        ),
        (
            {"links": [{"title": "x", "url": "https://evil.example.com/"}]},
            "must be a national site",
        ),
    ],
)
def test_each_rule_is_reported_with_file_and_entry(
    faq_copy: Path, capsys: pytest.CaptureFixture[str], change: dict, expected: str
) -> None:
    entry = {**GOOD_ENTRY, **change}
    write_extra(faq_copy, entry)
    code, out = validate(faq_copy, capsys)
    assert code != 0
    line = next(line for line in out.splitlines() if expected in line)
    assert line.startswith("error: extra.yml: ")
    assert str(entry["id"]) in line


def test_national_numbers_are_allowed(faq_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_extra(
        faq_copy,
        {
            **GOOD_ENTRY,
            "answer": {
                **GOOD_ENTRY["answer"],
                "ja": "一時停止は 0120-95-0178 へ（24時間）。急病は #7119 へ。",
            },
        },
    )
    assert validate(faq_copy, capsys)[0] == 0


def test_duplicate_ids_across_files(faq_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_extra(faq_copy, {**GOOD_ENTRY, "id": "moving-in"})
    code, out = validate(faq_copy, capsys)
    assert code != 0
    assert (
        "moving.yml: moving-in: duplicate id (also in extra.yml)" in out
        or "extra.yml: moving-in: duplicate id (also in moving.yml)" in out
    )


def test_broken_files_are_reported_not_crashed(
    faq_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = faq_copy / "corpus"
    (corpus / "broken.yml").write_text("entries: [\n  - id: x\n", encoding="utf-8")
    (corpus / "binary.yml").write_bytes(b"\xff\xfe\x00garbage")
    (corpus / "shape.yml").write_text("- just a list\n", encoding="utf-8")
    code, out = validate(faq_copy, capsys)
    assert code != 0
    assert "broken.yml: not valid YAML" in out
    assert "binary.yml: not UTF-8 text" in out
    assert "shape.yml: expected a mapping with an 'entries' list" in out


def test_every_problem_is_listed_not_just_the_first(
    faq_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_extra(faq_copy, {**GOOD_ENTRY, "reviewed": "yesterday", "department": "nope"})
    code, out = validate(faq_copy, capsys)
    assert code != 0
    assert "is not a date" in out and "unknown department" in out


def test_texts_in_memory_are_checked_as_files_are(faq_copy: Path) -> None:
    """The editor and the importer check a change before writing it, with no scratch copy:
    the same problems, named by the same file and entry, as loading those files."""
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile

    profile = Profile.load(faq_copy / "municipality.yml")
    moving = (faq_copy / "corpus" / "moving.yml").read_text(encoding="utf-8")
    broken = moving.replace("department: shimin", "department: no-such-department", 1)
    texts = {"moving.yml": broken, "extra.yml": "entries: []\n", "bad.yml": "entries: [1"}
    for name, text in texts.items():
        (faq_copy / "corpus" / name).write_text(text, encoding="utf-8")
    from_disk = Corpus.load(faq_copy / "corpus", profile).problems
    in_memory = Corpus.from_texts(texts, profile).problems
    assert in_memory and {str(p) for p in in_memory} <= {str(p) for p in from_disk}
    assert any(p.file == "bad.yml" and "not valid YAML" in p.message for p in in_memory)
    assert any("no-such-department" in p.message for p in in_memory)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.pop("website"), "missing required field 'website'"),
        (lambda p: p["departments"].update(extra={"name": "x"}), "department 'extra' needs"),
        (lambda p: p["hours"].update(open="8時半"), "hours.open: expected HH:MM"),
        (lambda p: p["hours"].update(weekdays=["mon", "someday"]), "hours.weekdays: unknown day"),
        (lambda p: p.update(pages=["not", "a", "mapping"]), "'pages'"),
    ],
)
def test_a_broken_profile_is_reported_by_field(
    faq_copy: Path, capsys: pytest.CaptureFixture[str], change, expected: str
) -> None:  # type: ignore[no-untyped-def]
    """The profile is checked as a whole when it loads, naming the field that is wrong."""
    path = faq_copy / "municipality.yml"
    profile = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(profile)
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    code, out = validate(faq_copy, capsys)
    assert code != 0
    assert expected in out and "municipality.yml" in out


def test_the_profile_keeps_a_citys_own_fields_for_placeholders(faq_copy: Path) -> None:
    from bot.faq.profile import Profile

    profile = Profile.load(faq_copy / "municipality.yml")
    assert profile.render("{city.address}", "en").startswith("1-1-1 Chuo")
    assert profile.render("{city.main_phone} {pages.moving}") == (
        "000-000-0000 https://www.city.sakurano.example/kurashi/todokede/"
    )
    assert profile.unknown_placeholders("{city.nowhere} {pages.nowhere}") == [
        "{city.nowhere}",
        "{pages.nowhere}",
    ]
