"""The `madoguchi` command: everything that is not `rasa ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.report.figures import Month


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
    _add_faq_commands(commands)
    _add_engine_commands(commands)
    _add_service_commands(commands)
    _add_data_commands(commands)
    return parser


def _add_faq_commands(commands) -> None:  # type: ignore[no-untyped-def]
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


def _add_engine_commands(commands) -> None:  # type: ignore[no-untyped-def]
    evaluate = commands.add_parser("eval", help="measure retrieval on a set of queries")
    evaluate.add_argument("--queries", type=Path, required=True, help="JSONL queries file")
    evaluate.add_argument("--corpus", type=Path, help="evaluate another corpus directory")
    evaluate.add_argument(
        "--train",
        action="store_true",
        help="with --corpus: train an embedding model for that corpus (cached by its digest)",
    )
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


def _add_service_commands(commands) -> None:  # type: ignore[no-untyped-def]
    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=["rasa", "actions", "gateway"])
    serve.set_defaults(handler=_serve)

    staff = commands.add_parser("staff", help="manage staff accounts for the /admin pages")
    staff_commands = staff.add_subparsers(metavar="ACTION")
    staff_add = staff_commands.add_parser("add", help="create a staff account")
    staff_add.add_argument("username")
    staff_add.add_argument("--role", choices=["editor", "viewer"], required=True)
    staff_add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    staff_add.set_defaults(handler=_staff_add)
    staff_list = staff_commands.add_parser("list", help="list staff accounts")
    staff_list.set_defaults(handler=_staff_list)

    run = commands.add_parser("run", help="train if needed and run all three services")
    run.add_argument(
        "--instances",
        type=int,
        default=1,
        help="how many of each service, behind HAProxy (the production layout) [1]",
    )
    run.add_argument(
        "--hosts",
        default="",
        help="with --instances: every host's internal address, comma-separated, this one's "
        "included; HAProxy then balances across all of them",
    )
    run.set_defaults(handler=_run)


def _add_data_commands(commands) -> None:  # type: ignore[no-untyped-def]
    db = commands.add_parser("db", help="database schema migrations")
    db_commands = db.add_subparsers(metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="upgrade the database to the newest schema")
    db_upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    db_upgrade.set_defaults(handler=_db_upgrade)
    db_current = db_commands.add_parser("current", help="print the database's schema revision")
    db_current.set_defaults(handler=_db_current)

    purge = commands.add_parser(
        "purge",
        help="delete logs, unanswered questions, feedback and Rasa's conversation events past "
        "the retention period",
    )
    purge.add_argument(
        "--days", type=int, help="retention in days (default: MADOGUCHI_RETENTION_DAYS or 365)"
    )
    purge.set_defaults(handler=_purge)

    report = commands.add_parser("report", help="write the monthly report (HTML and CSV)")
    report.add_argument("--month", required=True, help="the month, as YYYY-MM")
    report.add_argument("--out", type=Path, required=True, help="output directory")
    report.set_defaults(handler=_report)

    seed = commands.add_parser(
        "seed-traffic", help="write a month of made-up traffic into the database (for trials)"
    )
    seed.add_argument("--month", required=True, help="the month, as YYYY-MM")
    seed.add_argument("--messages", type=int, default=3000, help="how many messages [3000]")
    seed.add_argument("--seed", type=int, default=0, help="random seed [0]")
    seed.set_defaults(handler=_seed_traffic)


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
    corpus = Corpus.load(corpus_dir, profile, complete=True)
    for problem in corpus.problems:
        print(f"error: {problem}", file=sys.stderr)
    if corpus.problems:
        print(f"{len(corpus.problems)} problem(s) in {corpus_dir}", file=sys.stderr)
        return 1
    print(f"ok: {len(corpus)} entries in {corpus_dir}")
    return _conversation_validate(settings.conversation_path, corpus) if args.corpus is None else 0


def _conversation_validate(path: Path, corpus) -> int:  # type: ignore[no-untyped-def]
    """faq/conversation.yml: its facets, relations and clarifying questions."""
    import yaml

    from bot.conversation.guide import Guide, GuideError

    if not path.exists():
        return 0
    try:
        guide = Guide.from_data(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, corpus)
    except (GuideError, yaml.YAMLError, UnicodeDecodeError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 1
    print(
        f"ok: {len(guide.facets)} facets, {len(guide.by_entry) + len(guide.by_category)} "
        f"relations, {len(guide.clarifications)} clarifying questions in {path}"
    )
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
    if args.train and not external:
        print(
            "error: --train is for another corpus (--corpus DIR); for this installation's "
            "own corpus run 'madoguchi embeddings'",
            file=sys.stderr,
        )
        return 2
    profile_path = corpus_dir / "municipality.yml"
    if not profile_path.exists():
        profile_path = settings.profile_path
    try:
        queries = evaluate.load_queries(args.queries, normalize_ids=external)
    except (OSError, ExchangeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    encoder = _evaluated_model(settings, corpus_dir, profile_path) if args.train else None
    engine = build_engine(settings, corpus_dir, profile_path, strict=not external, encoder=encoder)
    if not len(engine.corpus):
        print(f"error: no usable entries in {corpus_dir}", file=sys.stderr)
        return 1
    outcomes = evaluate.run(engine, queries)
    result = evaluate.report(outcomes)
    result["entries"] = len(engine.corpus)
    result["embedding_model"] = engine.encoder.name if engine.encoder is not None else None
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


def _evaluated_model(settings: Settings, corpus_dir: Path, profile_path: Path):  # type: ignore[no-untyped-def]
    """The embedding model for a corpus under evaluation, trained unless cached."""
    from bot.faq import embeddings
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile
    from bot.services import embeddings_for
    from bot.text.japanese import CompoundTable

    corpus = Corpus.load(corpus_dir, Profile.load(profile_path), strict=False)
    if len(corpus) < 2:
        return None
    path, trained = embeddings_for(corpus, settings, settings.evaluated_embeddings_dir)
    print(f"embedding model {'trained' if trained else 'reused'}: {path}", file=sys.stderr)
    return embeddings.load(path, CompoundTable.from_file(settings.terms_path))


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

    if not 1 <= args.instances <= 16:
        print("error: --instances must be between 1 and 16", file=sys.stderr)
        return 2
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    return run_all(settings, args.instances, hosts)


def _staff_add(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from bot.admin.accounts import StaffError, StaffStore
    from bot.storage.db import Store

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            print("error: the passwords differ; nothing was changed", file=sys.stderr)
            return 1
    try:
        StaffStore(Store(settings.database_url)).add_staff(args.username, password, args.role)
    except StaffError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {args.role} '{args.username}'")
    return 0


def _staff_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.admin.accounts import StaffStore
    from bot.storage.db import Store

    for account in StaffStore(Store(settings.database_url)).accounts():
        print(f"{account.username}\t{account.role}\t{account.created_at:%Y-%m-%d}")
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import normalize_url
    from bot.storage.migrate import current_revision, upgrade

    engine = create_engine_for(normalize_url(settings.database_url))
    upgrade(engine, args.revision)
    print(f"database at revision {current_revision(engine)}")
    return 0


def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import normalize_url
    from bot.storage.migrate import current_revision, head_revision

    revision = current_revision(create_engine_for(normalize_url(settings.database_url)))
    print(f"{revision or '(empty database)'} (newest: {head_revision()})")
    return 0


def create_engine_for(url: str):  # type: ignore[no-untyped-def]
    """An engine that does not upgrade on its own (unlike Store), for the db commands."""
    from sqlalchemy import create_engine

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import Store

    days = settings.retention_days if args.days is None else args.days
    if days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 2
    from bot.storage.tracker import purge_tracker

    deleted = Store(settings.database_url).purge(days)
    deleted["rasa tracker events"] = purge_tracker(settings.tracker_url, days)
    for table, count in deleted.items():
        print(f"{table}: {count} row(s) older than {days} days deleted")
    return 0


def _month(text: str) -> Month | None:
    """The month given as YYYY-MM, or None after saying what is wrong with it."""
    from bot.report.figures import Month

    try:
        return Month.parse(text)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.report.render import ReportContext, write_report
    from bot.storage.db import Store

    month = _month(args.month)
    if month is None:
        return 2
    context = ReportContext.from_settings(settings)
    try:
        written = write_report(Store(settings.database_url), month, args.out, context)
    except OSError as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def _seed_traffic(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.corpus import Corpus
    from bot.report.seed import seed_traffic
    from bot.storage.db import Store

    month = _month(args.month)
    if month is None:
        return 2
    if args.messages < 0:
        print("error: --messages must not be negative", file=sys.stderr)
        return 2
    corpus = Corpus.load(settings.corpus_dir, _load_profile(settings), strict=False)
    manifest = seed_traffic(
        Store(settings.database_url), month, list(corpus.entries.values()), args.messages, args.seed
    )
    print(f"wrote {len(manifest.messages)} messages for {month}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
