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

    ask = commands.add_parser("ask", help="ask the FAQ engine a question")
    ask.add_argument("text", help="the question")
    ask.add_argument("--lang", help="answer language (ja, en, zh, ko, vi, pt)")
    ask.add_argument("--limit", type=int, default=5, help="how many results to show")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.set_defaults(handler=_ask)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    train.set_defaults(handler=_train)

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


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.faq.engine import FaqEngine

    engine = FaqEngine(settings.corpus_dir, settings.profile_path, settings.terms_path)
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


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot import services

    return services.serve(args.service, settings)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import run_all

    return run_all(settings)


if __name__ == "__main__":
    sys.exit(main())
