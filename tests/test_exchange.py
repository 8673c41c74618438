"""CSV export/import round trip, Excel encodings, all-or-nothing imports, and JSONL import."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.faq.corpus import Corpus
from bot.faq.exchange import ExchangeError, export_csv, import_csv, import_jsonl, write_csv
from bot.faq.profile import Profile


def load(faq: Path) -> Corpus:
    return Corpus.load(faq / "corpus", Profile.load(faq / "municipality.yml"))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(table: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue().encode("utf-8-sig")


def test_export_is_excel_ready(faq_copy: Path) -> None:
    data = write_csv(load(faq_copy), None)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Japanese correctly
    table = rows(data)
    corpus = load(faq_copy)
    expected_rows = sum(len(set(e.questions) | set(e.answer)) for e in corpus.entries.values())
    assert len(table) == expected_rows
    assert {r["lang"] for r in table} >= {"ja", "en"}


def test_round_trip_is_lossless(faq_copy: Path) -> None:
    before = load(faq_copy)
    data = write_csv(before, None)
    import_csv(data, faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    after = load(faq_copy)
    assert not after.problems
    assert {i: _comparable(e) for i, e in after.entries.items()} == {
        i: _comparable(e) for i, e in before.entries.items()
    }
    assert write_csv(after, None) == data


def _comparable(entry):  # type: ignore[no-untyped-def]
    return (
        entry.id,
        entry.category,
        entry.department,
        entry.questions,
        entry.answer,
        entry.links,
        entry.source,
        entry.reviewed,
    )


def test_shift_jis_from_japanese_excel_is_accepted(faq_copy: Path) -> None:
    table = rows(write_csv(load(faq_copy), None))
    row = next(r for r in table if r["id"] == "moving-in" and r["lang"] == "ja")
    row["questions"] += "\n転入の届出はどこでしますか"
    text = export_csv(load(faq_copy)).splitlines()[0] + "\r\n"
    only = io.StringIO()
    csv.DictWriter(only, fieldnames=list(row), lineterminator="\r\n").writerow(row)
    # Characters outside cp932 (e.g. the Korean rows) cannot be in a Shift_JIS file: use one row.
    sjis = (text + only.getvalue()).encode("cp932", errors="strict")
    import_csv(sjis, faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    entry = load(faq_copy).entries["moving-in"]
    assert "転入の届出はどこでしますか" in entry.questions["ja"]


def test_a_broken_row_changes_nothing_and_names_the_row(faq_copy: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(faq_copy / "corpus")
    table = rows(write_csv(load(faq_copy), None))
    table[0]["questions"] += "\n新しい言い方"
    table[3]["reviewed"] = "2026/99/99"
    bad = faq_copy / "bad.csv"
    bad.write_bytes(to_csv(table))
    code = main(["faq", "import", str(bad), "--corpus", str(faq_copy / "corpus")])
    err = capsys.readouterr().err
    assert code == 1
    assert "row 5 (" in err  # the fourth data row is row 5 in Excel
    assert "nothing was changed" in err
    assert snapshot(faq_copy / "corpus") == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[0].update(lang="fr"), "row 2 ("),
        (lambda t: t[1].update(answer="電話は 03-1234-5678"), "phone number"),
        (lambda t: t[1].update(answer="{dept.unknown.phone}"), "unknown placeholder"),
        (lambda t: t[0].update(id=""), "row 2: 'id' is empty"),
        (lambda t: t[0].update(links="no separator here"), "must be 'title | url'"),
    ],
)
def test_each_bad_row_is_rejected(faq_copy: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(faq_copy / "corpus")
    table = rows(write_csv(load(faq_copy), None))
    mutate(table)
    with pytest.raises(ExchangeError) as caught:
        import_csv(to_csv(table), faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    assert any(message in e for e in caught.value.errors), caught.value.errors
    assert snapshot(faq_copy / "corpus") == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02", "not text"),
        (b"id,lang\r\nx,ja\r\n", "missing column"),
        (b"\xff\xfe\xfa\xfb\x80\x81", "neither UTF-8 nor Shift_JIS"),
    ],
)
def test_unusable_files_are_rejected(faq_copy: Path, data: bytes, message: str) -> None:
    with pytest.raises(ExchangeError) as caught:
        import_csv(data, faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    assert message in str(caught.value)


def test_new_entry_from_csv_goes_into_its_category_file(faq_copy: Path) -> None:
    table = rows(write_csv(load(faq_copy), None))
    new = dict(table[0])
    new.update(
        id="pets-dog-license",
        category="pets",
        department="kankyo",
        lang="ja",
        questions="犬の登録はどこでしますか\n犬 登録",
        answer="{dept.kankyo.name}で登録できます。",
        links="",
    )
    import_csv(to_csv([new]), faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    assert (faq_copy / "corpus" / "pets.yml").exists()
    corpus = load(faq_copy)
    assert "pets-dog-license" in corpus.entries and not corpus.problems


def test_jsonl_import_builds_a_new_corpus(faq_copy: Path, tmp_path: Path) -> None:
    lines = [
        {
            "id": "Q_001",
            "question": "ごみの出し方は？",
            "answer": "分別して出してください。詳しくは 0123-45-6789 へ。",
        },
        {"id": "Q_001", "question": "ゴミ 出し方"},
        {
            "id": 2,
            "question": "How do I get a library card?",
            "answer": "Bring ID {like this}.",
            "lang": "en",
        },
    ]
    source = tmp_path / "city.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    out = tmp_path / "city-corpus"
    code = main(["faq", "import", str(source), "--format", "jsonl", "--out", str(out)])
    assert code == 0
    profile = Profile.load(faq_copy / "municipality.yml")
    corpus = Corpus.load(out, profile, strict=False)
    assert not corpus.problems
    assert corpus.entries["q-001"].questions["ja"] == ("ごみの出し方は？", "ゴミ 出し方")
    assert profile.render(corpus.entries["2"].answer["en"]) == "Bring ID {like this}."


def test_jsonl_import_reports_bad_lines(tmp_path: Path, faq_copy: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": "a", "question": "q", "answer": "a"}\nnot json\n{"question": "x"}\n')
    with pytest.raises(ExchangeError) as caught:
        import_jsonl(
            source.read_bytes(), tmp_path / "out", Profile.load(faq_copy / "municipality.yml")
        )
    assert any(e.startswith("line 2:") for e in caught.value.errors)
    assert any(e.startswith("line 3:") for e in caught.value.errors)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_import_keeps_each_files_header_comment(faq_copy: Path) -> None:
    """The comment block at the top of a corpus file (what it covers, where its facts come
    from) survives a CSV import that rewrites the file."""
    headers = {
        path.name: path.read_text(encoding="utf-8").split("entries:")[0]
        for path in (faq_copy / "corpus").glob("*.yml")
    }
    assert any(header.startswith("#") for header in headers.values())
    data = write_csv(load(faq_copy), None)
    import_csv(data, faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml"))
    for path in (faq_copy / "corpus").glob("*.yml"):
        assert path.read_text(encoding="utf-8").startswith(headers[path.name]), path.name
