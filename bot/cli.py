"""The `madoguchi` command: everything that is not `rasa ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    settings = Settings.from_env()
    return int(args.handler(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madoguchi", description="Multilingual FAQ assistant for Japanese city halls."
    )
    commands = parser.add_subparsers(metavar="COMMAND")

    faq = commands.add_parser("faq", help="work with the FAQ corpus")
    faq_commands = faq.add_subparsers(metavar="ACTION")
    validate = faq_commands.add_parser("validate", help="check the corpus and the profile")
    validate.add_argument("--corpus", type=Path, help="corpus directory (default: faq/corpus)")
    validate.add_argument("--profile", type=Path, help="municipality profile file")
    validate.set_defaults(handler=_faq_validate)

    export = faq_commands.add_parser("export", help="write the corpus as CSV (Excel-ready)")
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--out", type=Path, help="output file (default: standard output)")
    export.add_argument("--corpus", type=Path, help="corpus directory (default: faq/corpus)")
    export.set_defaults(handler=_faq_export)

    imp = faq_commands.add_parser(
        "import", help="apply a CSV to the corpus, or build a corpus from JSONL"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--format",
        choices=["csv", "jsonl"],
        default=None,
        help="file format (default: from the file name)",
    )
    imp.add_argument(
        "--corpus", type=Path, help="corpus to update with a CSV (default: faq/corpus)"
    )
    imp.add_argument("--out", type=Path, help="new corpus directory for a JSONL import")
    imp.set_defaults(handler=_faq_import)

    evaluate = commands.add_parser("eval", help="measure retrieval on a set of queries")
    evaluate.add_argument("--queries", type=Path, required=True, help="JSONL queries file")
    evaluate.add_argument("--corpus", type=Path, help="evaluate another corpus directory")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument(
        "--failures",
        type=int,
        default=0,
        metavar="N",
        help="also list up to N queries the engine got wrong",
    )
    evaluate.set_defaults(handler=_eval)

    ask = commands.add_parser("ask", help="ask the FAQ engine a question")
    ask.add_argument("text", help="the question")
    ask.add_argument("--lang", help="answer language (ja, en, zh, ko, vi, pt)")
    ask.add_argument("--limit", type=int, default=5, help="how many results to show")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.set_defaults(handler=_ask)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    train.set_defaults(handler=_train)

    embeddings = commands.add_parser(
        "embeddings", help="train the FAQ engine's embedding model if the corpus changed"
    )
    embeddings.add_argument("--force", action="store_true", help="train even if cached")
    embeddings.add_argument("--steps", type=int, help="training steps (default: the plan's)")
    embeddings.set_defaults(handler=_embeddings)

    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["rasa", "actions", "gateway"])
    serve.set_defaults(handler=_serve)

    run = commands.add_parser("run", help="train if needed and run all three services")
    run.set_defaults(handler=_run)
    return parser


def _faq_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile, ProfileError

    profile_path = args.profile or settings.profile_path
    corpus_dir = args.corpus or settings.corpus_dir
    try:
        profile = Profile.load(profile_path)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    corpus = Corpus.load(corpus_dir, profile)
    for problem in corpus.problems:
        print(f"error: {problem}", file=sys.stderr)
    if corpus.problems:
        print(f"{len(corpus.problems)} problem(s) in {corpus_dir}", file=sys.stderr)
        return 1
    print(f"ok: {len(corpus)} entries in {corpus_dir}")
    return 0


def _load_profile(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.faq.profile import Profile

    return Profile.load(settings.profile_path)


def _faq_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.corpus import Corpus
    from bot.faq.exchange import write_csv

    corpus = Corpus.load(args.corpus or settings.corpus_dir, _load_profile(settings))
    if corpus.problems:
        for problem in corpus.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    data = write_csv(corpus, args.out)
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        print(f"wrote {len(corpus)} entries to {args.out}", file=sys.stderr)
    return 0


def _faq_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.exchange import ExchangeError, import_csv, import_jsonl

    fmt = args.format or ("jsonl" if args.file.suffix.lower() in (".jsonl", ".ndjson") else "csv")
    try:
        data = args.file.read_bytes()
        if fmt == "jsonl":
            if args.out is None:
                print(
                    "error: a JSONL import needs --out DIR (a new corpus directory)",
                    file=sys.stderr,
                )
                return 2
            entries = import_jsonl(data, args.out, _load_profile(settings))
            print(f"imported {len(entries)} entries into {args.out}")
        else:
            entries = import_csv(data, args.corpus or settings.corpus_dir, _load_profile(settings))
            print(f"imported {len(entries)} entries into {args.corpus or settings.corpus_dir}")
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ExchangeError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        print("nothing was changed", file=sys.stderr)
        return 1
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq import evaluate
    from bot.faq.engine import build_engine
    from bot.faq.exchange import ExchangeError

    corpus_dir = args.corpus or settings.corpus_dir
    external = args.corpus is not None
    profile_path = corpus_dir / "municipality.yml"
    if not profile_path.exists():
        profile_path = settings.profile_path
    try:
        queries = evaluate.load_queries(args.queries, normalize_ids=external)
    except (OSError, ExchangeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    engine = build_engine(settings, corpus_dir, profile_path, strict=not external)
    if not len(engine.corpus):
        print(f"error: no usable entries in {corpus_dir}", file=sys.stderr)
        return 1
    outcomes = evaluate.run(engine, queries)
    result = evaluate.report(outcomes)
    result["entries"] = len(engine.corpus)
    if args.failures:
        result["failures"] = evaluate.failures(outcomes, args.failures)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    for key, value in result.items():
        if key not in ("by_lang", "failures"):
            print(f"{key:>16}: {value}")
    for lang, figures in result["by_lang"].items():
        print(
            f"{lang}: n={figures['n']} hit@1={figures['hit@1']} hit@3={figures['hit@3']} "
            f"oos_rejection={figures['oos_rejection']} false_rejection={figures['false_rejection']}"
        )
    for failure in result.get("failures", []):
        print(f"  miss: {failure}")
    return 0


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.engine import build_engine

    engine = build_engine(settings)
    reply = engine.search(args.text, args.lang, limit=args.limit)
    lang = reply.lang
    results = []
    for result in reply.results[: args.limit]:
        answer, _ = engine.render_answer(result.entry, lang)
        results.append(
            {
                "id": result.entry.id,
                "score": round(result.confidence, 4),
                "question": result.entry.canonical_question(lang),
                "answer": answer,
            }
        )
    if args.json:
        out = {"answered": reply.answered, "lang": lang, "results": results}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not results:
        print("(no answer)")
    for number, result in enumerate(results, 1):
        mark = "*" if reply.answered and number == 1 else " "
        print(f"{mark}{number}. [{result['id']}] {result['score']:.2f} {result['question']}")
    if reply.answered:
        print()
        print(results[0]["answer"])
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import train_if_needed

    return train_if_needed(settings, force=args.force)


def _embeddings(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import train_embeddings_if_needed

    return train_embeddings_if_needed(settings, force=args.force, steps=args.steps)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot import services

    return services.serve(args.service, settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import run_all

    return run_all(settings)


if __name__ == "__main__":
    sys.exit(main())
