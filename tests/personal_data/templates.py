"""Residents' messages with personal data in many forms, built from templates × values.

Each case is (message, secrets): the secrets are the parts that must never be stored. Values
are made up: phone numbers, card numbers and My Numbers are random digit strings, names and
addresses are common ones.
"""

from __future__ import annotations

import random
import unicodedata

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _digits(rng: random.Random, n: int) -> str:
    first = rng.choice("123456789")
    return first + "".join(rng.choice("0123456789") for _ in range(n - 1))


def _my_numbers(rng: random.Random) -> list[str]:
    out = []
    for _ in range(8):
        d = _digits(rng, 12)
        out += [
            d,
            f"{d[:4]} {d[4:8]} {d[8:]}",
            f"{d[:4]}-{d[4:8]}-{d[8:]}",
            d.translate(FULL_WIDTH),
            f"{d[:4]}－{d[4:8]}－{d[8:]}".translate(FULL_WIDTH),
            f"{d[:4]}　{d[4:8]}　{d[8:]}",
        ]
    return out


def _phones(rng: random.Random) -> list[str]:
    out = []
    for _ in range(6):
        a, b = _digits(rng, 4), _digits(rng, 4)
        out += [
            f"090-{a}-{b}",
            f"080{a}{b}",
            f"03-{a}-{b}",
            f"０７０－{a}－{b}".translate(FULL_WIDTH),
            f"+81 90 {a} {b}",
            f"+81-80-{a}-{b}",
            f"06({a}){b}",
        ]
    return out


def _emails(rng: random.Random) -> list[str]:
    names = ["yamada.taro", "hanako_s", "nguyen.van.an", "maria+city", "kim.minjun"]
    domains = ["example.com", "mail.example.jp", "example.co.jp"]
    return [f"{n}{rng.randint(1, 99)}@{d}" for n in names for d in domains]


def _cards(rng: random.Random) -> list[str]:
    out = []
    for _ in range(4):
        d = "4" + _digits(rng, 15)
        out += [d, f"{d[:4]} {d[4:8]} {d[8:12]} {d[12:]}", f"{d[:4]}-{d[4:8]}-{d[8:12]}-{d[12:]}"]
        out.append(f"{d[:4]} {d[4:8]} {d[8:12]} {d[12:]}".translate(FULL_WIDTH))
    return out


POSTAL_ADDRESSES = [
    ("〒{p} 東京都千代田区千代田1-1-1", "千代田1-1-1"),
    ("〒{p} さくらの市中央2丁目3番4号", "中央2丁目3番4号"),
    ("{p} 大阪府大阪市北区梅田3-1-1", "梅田3-1-1"),
    ("〒{p}　さくらの市桜町5-6-7 コーポ桜101", "桜町5-6-7"),
]
ADDRESSES = [
    ("東京都新宿区西新宿2-8-1", "西新宿2-8-1"),
    ("さくらの市本町3丁目12番5号", "本町3丁目12番5号"),
    ("神奈川県横浜市中区日本大通1", None),  # no block number: not recognisable as one
    ("北海道札幌市中央区北1条西2丁目", "北1条西2丁目"),
    ("さくらの市緑が丘4-15-2", "緑が丘4-15-2"),
    ("福岡県福岡市博多区博多駅前1丁目2番地", "博多駅前1丁目2番地"),
]
NAMES = ["山田太郎", "佐藤花子", "鈴木一郎", "高橋美咲", "グエン・ヴァン・アン", "田中 健太"]
NAME_TEMPLATES = [
    "私は{n}です。転入届について教えてください",
    "名前は{n}です。住民票がほしい",
    "氏名：{n}　マイナンバーカードの更新",
    "{n}と申します。児童手当の申請をしたい",
]
ENGLISH_NAMES = ["John Smith", "Maria Silva", "Minh Nguyen"]

TEMPLATES = {
    "my_number": [
        "私のマイナンバーは{v}です",
        "個人番号{v}のカードをなくしました",
        "my number is {v}, I lost the card",
    ],
    "phone": ["電話番号は{v}です。折り返してください", "call me at {v} please"],
    "email": ["メールアドレスは{v}です", "please email {v}"],
    "card": ["クレジットカード{v}で税金を払えますか", "カード番号 {v} で支払いました"],
}


def personal_data_cases(seed: int = 7) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    cases: list[tuple[str, list[str]]] = []
    values = {
        "my_number": _my_numbers(rng),
        "phone": _phones(rng),
        "email": _emails(rng),
        "card": _cards(rng),
    }
    for kind, templates in TEMPLATES.items():
        for index, value in enumerate(values[kind]):
            cases.append((templates[index % len(templates)].format(v=value), [value]))
    for template, street in POSTAL_ADDRESSES:
        for _ in range(4):
            postal = f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
            text = template.format(p=postal)
            cases.append((f"{text}に引っ越しました", [postal, street]))
            cases.append((f"住所は{text.translate(FULL_WIDTH)}です", [postal, street]))
    for address, block in ADDRESSES:
        if block:
            cases.append((f"{address}に住んでいます。ごみの日は？", [block]))
    for template in NAME_TEMPLATES:
        for name in NAMES:
            cases.append((template.format(n=name), [name]))
    for name in ENGLISH_NAMES:
        cases.append((f"Hello, my name is {name} and I need a residence certificate", [name]))
    # Several kinds at once.
    for _ in range(20):
        phone = f"090-{_digits(rng, 4)}-{_digits(rng, 4)}"
        my_number = _digits(rng, 12)
        name = rng.choice(NAMES[:4])
        cases.append(
            (
                f"私は{name}です。電話{phone}、マイナンバー{my_number}です",
                [phone, my_number, name],
            )
        )
    return cases


def secret_forms(secret: str) -> set[str]:
    """A secret as typed and as stored text would show it after NFKC normalisation."""
    return {secret, unicodedata.normalize("NFKC", secret)}
