"""People's names that residents type about themselves and their family.

Japanese: fugashi with unidic tags person names (固有名詞-人名-姓/名). A full name (surname then
given name) is always a name. A word that is only tagged as a name, or not known at all, is
taken as one where the sentence says it is: 「田中です」「〜と申します」「母の〜」「〜さん」
「名前は〜」. On its own, a tag is not enough: unidic also tags マイナ as a given name.

Other languages: the phrases residents introduce a name with ("my name is", "me chamo",
"tôi tên là", "我叫", "저는 …입니다"), followed by what looks like a name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.privacy.spans import Span
from bot.text.japanese import tagger

LABEL = "[氏名]"
# Tagged as names by unidic, but words residents use for other things.
NOT_NAMES = frozenset({"マイナ", "まいな", "ポイント"})
HONORIFICS = frozenset(
    {"さん", "様", "さま", "くん", "君", "ちゃん", "氏", "殿", "先生", "宛", "あて"}
)
# Hiragana words before an honorific that are not names: 「みなさん」「おかあさん」.
NOT_HIRAGANA_NAMES = frozenset({"みな", "みんな", "あか", "おく", "じい", "ばあ", "にい", "ねえ"})
# After the name: 「清水と申します」「山田っていいます」 (said) or 「田中です」 (weaker).
_SAID = re.compile(
    r"\s*(?:と申|と言い|といい|っていい|って言い|っていう者|という者|と言う者|と申す|と\s*もうし)"
)
_DESU = re.compile(r"\s*(?:です|でございます|でーす|だよ|だけど|やけど|じゃけど)")
_BEFORE_INTRODUCTION = re.compile(r"(?:^|[。、,.!?！？\s」)]|は|も|こちら)\s*$")
# Before the name: 「母の」「夫・」 (relation) and 「名前は」「名義」 (label).
_RELATION = re.compile(
    r"(?:母|父|夫|妻|主人|嫁|息子|娘|子ども|子供|こども|子|祖母|祖父|兄|姉|弟|妹|孫|家族|友人|友達|"
    r"親|義母|義父|母親|父親|旦那|長男|長女|次男|次女|三男|三女|おばあちゃん|おじいちゃん|"
    r"お母さん|お父さん|おかあさん|おとうさん|おばあさん|おじいさん|姪|甥|叔母|叔父|伯母|伯父)(?:の|は|が|・|、|\s)\s*$"
)
_NAME_WORDS = (
    r"(?:名前|氏名|なまえ|申請者|世帯主|代理人|届出人|届け出人|名義人?|宛名|フルネーム|旧姓|"
    r"户名|戶名|名字)"
)
# 「名前は平野」: any noun may be the name. 「名義 ハヤシ」: only name-like words (not 名義変更).
_NAME_LABEL = re.compile(rf"{_NAME_WORDS}\s*(?:は|:|=)\s*$")
# 「名義 ハヤシ ミホ」, but not the keywords 「世帯主 変更」「代理人 住民票」.
_NAME_LABEL_SPACED = re.compile(rf"{_NAME_WORDS}\s+$")
_NAME_LABEL_BARE = re.compile(rf"{_NAME_WORDS}\s*$")
_NOT_IN_NAMES = frozenset(
    {"代名詞", "助詞", "助動詞", "動詞", "形容詞", "副詞", "接続詞", "補助記号", "記号"}
)
MAX_NAME_WORDS = 4
# Only before くん and ちゃん: before さん a hiragana word is usually no name (たくさん).
HIRAGANA_BEFORE_HONORIFIC = re.compile(
    r"(?:^|(?<=[\s、。,!?のはが]))(?P<name>[ぁ-ゖ]{2,6}?)\s*(?:くん|ちゃん)"
)
# 「娘、ひなた の」: a hiragana name set off after a relation (not 「母のかわりに」).
HIRAGANA_AFTER_RELATION = re.compile(
    r"(?:娘|息子|子ども|子供|こども|孫|妻|夫|長男|長女|次男|次女)、\s*(?P<name>[ぁ-ゖ]{2,5})"
    r"(?=\s|の|が|は|、|。|$)"
    # 「おかあさんの よしだ みつこ の」: a full name in hiragana, set off by spaces.
    r"|(?:母|父|おかあさん|おとうさん|おばあさん|おじいさん|お母さん|お父さん)の\s+"
    r"(?P<full>[ぁ-ゖ]{2,4}\s[ぁ-ゖ]{2,4})(?=\s)"
)


@dataclass(frozen=True)
class _Word:
    surface: str
    start: int
    end: int
    pos1: str
    pos2: str
    pos3: str
    pos4: str
    unknown: bool

    @property
    def tagged_name(self) -> bool:
        return self.pos3 == "人名" and self.surface not in NOT_NAMES

    @property
    def name_like(self) -> bool:
        """A person name, a proper noun, or an unknown word that is not an ordinary one."""
        if re.fullmatch(r"[ぁ-ゖー]+", self.surface):  # unidic reads けんしん as 謙信
            return False
        if self.tagged_name:
            return True
        if self.pos2 == "固有名詞":  # 日本 and 市役所 are proper nouns too, but not people
            return self.pos3 not in ("地名", "組織名", "国")
        if self.pos2 == "普通名詞":  # スマホ, カード, ヘルパー, even when unidic does not know them
            return False
        return (
            self.unknown
            or re.fullmatch(r"[ァ-ヺー]{2,}|[A-Z][A-Za-z'-]+", self.surface) is not None
        )

    def fits(self, context: str) -> bool:
        """Whether this word can be (part of) a name where ``context`` says one stands."""
        if (
            self.surface in NOT_NAMES
            or self.pos1 in _NOT_IN_NAMES
            or self.pos2 == "数詞"
            or any(ch.isdigit() for ch in self.surface)
        ):
            return False
        if context in ("said", "label"):  # 「平野と申します」「名前は平野」: any noun but a
            # verbal or counting one (「名前は変更できますか」)
            return self.name_like or (self.pos1 == "名詞" and not self.pos3.endswith("可能"))
        if (
            context == "spaced label"
        ):  # katakana or hiragana names: 「名義 ハヤシ」「なまえ はやし」
            return (
                self.name_like
                or re.fullmatch(r"[ァ-ヺー]{2,}|[ぁ-ゖ]{2,5}", self.surface) is not None
            )
        # Relations, honorifics and 「です」 need more than an ordinary word (母の代わり, 職員さん).
        return self.name_like and not (
            self.pos2 == "普通名詞" and re.search(r"[\u4e00-\u9fff]", self.surface)
        )


def _before(text: str, position: int) -> str:
    """The few characters before ``position``: enough for 「名前は」 or 「おかあさんの」, and a
    search at each word stays linear in a long message."""
    start = max(0, position - 12)
    return text[start:position] if start else text[:position]


def _words(text: str) -> list[_Word]:
    words: list[_Word] = []
    cursor = 0
    for node in tagger()(text):
        start = text.find(node.surface, cursor)
        if start < 0:
            continue
        cursor = start + len(node.surface)
        f = node.feature
        words.append(
            _Word(
                node.surface,
                start,
                cursor,
                f.pos1 or "",
                f.pos2 or "",
                f.pos3 or "",
                f.pos4 or "",
                bool(node.is_unk),
            )
        )
    return words


def _joined(text: str, left: _Word, right: _Word) -> bool:
    return not text[left.end : right.start].strip()


def _extend(words: list[_Word], text: str, first: int, step: int, context: str) -> list[_Word]:
    """The words of a name from index ``first`` on, walking by ``step``; 「・」 joins parts."""
    run: list[_Word] = []
    k = first
    while 0 <= k < len(words) and len(run) < MAX_NAME_WORDS:
        word = words[k]
        if word.surface in ("・", "=") and run and 0 <= k + step < len(words):
            k += step
            continue
        dotted_katakana = (
            run
            and words[k - step].surface in ("・", "=")
            and re.fullmatch(r"[ァ-ヺー]+", word.surface)
        )
        if not (word.fits(context) or dotted_katakana):  # 「ホアン・ティ・トゥ」: every part
            break
        if run:
            left, right = sorted((run[-1], word), key=lambda w: w.start)
            dotted = words[k - step].surface in ("・", "=")
            adjacent = left.end == right.start
            # Across a space only name parts: 「松田 勝」, not 「大野節子　介護保険」. Before
            # 「と申します」 any word: 「ゴンザレス アナ って言います」.
            spaced = _joined(text, left, right) and (
                (left.name_like and right.name_like) or context in ("said", "spaced label")
            )
            if not (dotted or adjacent or spaced):
                break
        run.append(word)
        k += step
    return sorted(run, key=lambda w: w.start)


def japanese_name_spans(text: str) -> Iterator[Span]:
    if not re.search(r"[ぁ-ゖァ-ヺ]", text) and CHINESE_ONLY.search(text):
        return  # Chinese: unidic would read its words as Japanese names
    words = _words(text)
    for k, word in enumerate(words):
        # A name before its anchor: 「〜さん」「〜と申します」「〜です」.
        if word.surface in HONORIFICS:
            context = "honorific"
        elif _SAID.match(text, word.start):
            context = "said"
        elif _DESU.match(text, word.start):
            context = "desu"
        else:
            context = ""
        if context and k > 0:
            run = _extend(words, text, k - 1, -1, context)
            if run and (context != "desu" or _introduces(text, run)):
                yield Span(run[0].start, run[-1].end, LABEL)
        # A name after its anchor: 「母の〜」「名義 〜」.
        before = _before(text, word.start)
        if _NAME_LABEL.search(before) or before.endswith("旧姓"):
            context = "label"
        elif _NAME_LABEL_SPACED.search(before):
            context = "spaced label"
        elif _RELATION.search(before) or _NAME_LABEL_BARE.search(before):
            context = "relation"
        else:
            continue
        run = _extend(words, text, k, 1, context)
        if run and not _compound(words, text, run):
            yield Span(run[0].start, run[-1].end, LABEL)
    # Hiragana given names before an honorific, which unidic splits: 「ゆうと くん」.
    for match in (
        *HIRAGANA_BEFORE_HONORIFIC.finditer(text),
        *HIRAGANA_AFTER_RELATION.finditer(text),
    ):
        group = "name" if match.group("name") else "full"
        name = match.group(group)
        if not name.startswith("お") and name not in NOT_HIRAGANA_NAMES:
            yield Span(match.start(group), match.end(group), LABEL)
    yield from _surname_spans(words, text)
    # A full name anywhere: a surname followed by a given name.
    for left, right in itertools.pairwise(words):
        if (
            left.tagged_name
            and right.tagged_name
            and left.pos4 == "姓"
            and right.pos4 == "名"
            and not re.fullmatch(r"[ぁ-ゖ]+", left.surface + right.surface)
        ):
            yield Span(left.start, right.end, LABEL)


_SURNAME_THEN = re.compile(r"\s*(?:の(?:嫁|妻|夫|母|父|娘|息子|家族|者|代理|子)|(?=[\s、,。]|$))")
_RELATION_THEN_NAME = re.compile(r"(?:息子|娘|長男|長女|次男|次女|夫|妻|母|父|孫)\s*$")
_INTRODUCTION = r"(?:です|でございます|と申|ともうし|と言|といい|って言|\(旧姓|（旧姓)"
_GIVEN_THEN_INTRODUCTION = re.compile(
    rf"(?P<given>[ァ-ヺー]{{1,6}}|[\u4e00-\u9fff]{{1,3}})?\s*{_INTRODUCTION}"
)
# 「息子優斗の」: a relation with a name glued to it, before の or が.
_RELATION_GLUED_NAME = re.compile(
    r"(?:息子|娘|長男|長女|次男|次女|孫)(?P<name>[\u4e00-\u9fff]{2,3}|[ァ-ヺー]{2,6})(?=の|が|は|、|\s)"
)
_SPACED_KANJI = re.compile(r"(?:^|(?<=\s))(?P<word>[\u4e00-\u9fff]{2,3})(?=\s)")
# 「森です。」「はじめまして林です」: a short surname that is the whole first sentence.
_SURNAME_AT_START = re.compile(
    r"^(?:\s*(?:はじめまして|こんにちは|こんばんは|おはようございます|すみません|もしもし)[、,。!！\s]*)?"
    r"(?P<name>[\u4e00-\u9fff]?(?![生中籍者人員婦夫妻親歳才民家長])[\u4e00-\u9fff])(?=です[。、!！\s])"
)


def _surname_spans(words: list[_Word], text: str) -> Iterator[Span]:
    """A surname unidic tags as one: alone among keywords (「池田 住民票1通」), before
    「の嫁」 (「菅原の嫁です」), with a given name it does not know before an introduction
    (「吉村トメでございます」), and a name right after a relation (「息子優斗の」)."""
    for match in _RELATION_GLUED_NAME.finditer(text):
        yield Span(match.start("name"), match.end("name"), LABEL)
    for match in _SURNAME_AT_START.finditer(text):
        yield Span(match.start("name"), match.end("name"), LABEL)
    yield from _spaced_kanji_names(text)
    for k, word in enumerate(words):
        if not word.tagged_name or re.fullmatch(r"[ぁ-ゖ]+", word.surface):
            continue
        given = _GIVEN_THEN_INTRODUCTION.match(text, word.end)
        if word.pos4 == "姓" and given:
            yield Span(word.start, max(word.end, given.end("given")), LABEL)
        alone = re.search(r"(?:^|[\s、,。])$", _before(text, word.start)) is not None
        surname_alone = word.pos4 == "姓" and alone and _SURNAME_THEN.match(text, word.end)
        after_relation = k > 0 and _RELATION_THEN_NAME.search(_before(text, word.start))
        if surname_alone or (after_relation and word.pos1 == "名詞"):
            yield Span(word.start, word.end, LABEL)


def _spaced_kanji_names(text: str) -> Iterator[Span]:
    """Set off by spaces, a word is read on its own: 「080… 池田 住民票」「に住む 平野 です」."""
    for match in _SPACED_KANJI.finditer(text):
        alone = _words(match.group("word"))
        surname = len(alone) == 1 and alone[0].tagged_name and alone[0].pos4 == "姓"
        if surname or _DESU.match(text, match.end("word")):
            yield Span(match.start("word"), match.end("word"), LABEL)


def _introduces(text: str, run: list[_Word]) -> bool:
    """「田中です」 introduces a name; 「引っ越しです」 does not."""
    if any(w.pos4 == "姓" and w.tagged_name for w in run):  # 「保護者の原田です」
        return True
    # 「に住む 平野 です」: a word set off by spaces before です is a name.
    spaced = text[run[-1].end : run[-1].end + 1].isspace() and text[: run[0].start][-1:].isspace()
    if spaced and all(re.fullmatch(r"[\u4e00-\u9fff]{1,4}", w.surface) for w in run):
        return True
    if not _BEFORE_INTRODUCTION.search(_before(text, run[0].start)):
        return False
    # 「シルバ・マリア」 and 「ワン シャオメイ」, not the compound 「シングルマザー」.
    katakana_parts = (
        len(run) >= 2
        and all(re.fullmatch(r"[ァ-ヺー]+", w.surface) for w in run)
        and any(a.end != b.start for a, b in itertools.pairwise(run))
    )
    return katakana_parts or any(
        w.tagged_name or w.unknown or w.pos2 == "固有名詞" or w.surface[:1].isascii() for w in run
    )


def _compound(words: list[_Word], text: str, run: list[_Word]) -> bool:
    """A noun right after the run makes a compound: 「子どものマイナカード」「母の田中病院」."""
    after = next((w for w in words if w.start >= run[-1].end), None)
    return (
        after is not None
        and after.start == run[-1].end
        and after.pos1 == "名詞"
        and (after.surface not in HONORIFICS)
    )


# Foreign names in katakana, their parts set off by 「・」 or a space, before an introduction:
# 「グエン・ティ・フオンです」「オリベイラ アナです」「ジョン・スミスの妻」.
KATAKANA_NAME = re.compile(
    r"(?<![ァ-ヺー・])(?P<name>[ァ-ヺー]{2,}(?:[・=\s][ァ-ヺー]{1,}){1,3})"
    r"(?=\s*(?:です|でございます|と申|と言|って言|っていい|といい|さん|様|ちゃん|くん|の(?:妻|夫|母|父|"
    r"子|娘|息子|家族|代理)))"
)
# Hiragana names residents type when they cannot use kanji: 「わたなべです」 at the start,
# and readings in parentheses next to a name: 「石井 はるか(いしい はるか)です」.
HIRAGANA_INTRODUCTION = re.compile(
    r"^\s*(?P<name>[ぁ-ゖ]{2,8})\s*(?=です|でございます|と申|ともうし|と言|といい)"
)
NOT_HIRAGANA_INTRODUCTIONS = re.compile(
    r"^(?:ありがとう|よろしく|はじめまして|こんにちは|こんばんは|おはよう|すみません|おねがい|"
    r"しつもん|そうだん|もしもし|ごめん|いま|まだ|そう|ほんと|わたし|ぼく|おれ|うち)"
    # 「がいこくじんです」「がくせいです」「かいしゃいんです」: who they are, not their name.
    r"|(?:じん|せい|いん|しゃ|ふ|ひと|まま|ぱぱ|しい|たい|ない)$"
)
READING_NEXT_TO_NAME = re.compile(
    r"(?<=\[氏名\])\s*\(\s*(?P<after>[ぁ-ゖァ-ヺー\s]{1,24})\)"
    r"|(?P<before>[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+){0,2})\s*(?=\(\s*\[氏名\]\s*\))"
)
# A surname unidic tags as one, standing alone among keywords: 「池田 住民票1通」.
_ALONE = re.compile(r"(?:^|(?<=[\s、,。]))$")


def katakana_and_hiragana_name_spans(text: str) -> Iterator[Span]:
    for match in KATAKANA_NAME.finditer(text):
        yield Span(match.start("name"), match.end("name"), LABEL)
    match = HIRAGANA_INTRODUCTION.match(text)
    if match and not NOT_HIRAGANA_INTRODUCTIONS.search(match.group("name")):
        yield Span(match.start("name"), match.end("name"), LABEL)


# "Noah and [氏名]": a given name joined to a labelled name.
NAME_JOINED_TO_NAME = re.compile(r"\b[A-Z][a-zà-ỹ]+(?=\s+(?:and|e|và|&)\s+\[氏名\])")


def readings_next_to_names(text: str) -> str:
    """Once names are labelled, what stands beside them: their readings
    (「[氏名](いしい はるか)」) and a given name joined by "and" ("Noah and [氏名]")."""
    text = READING_NEXT_TO_NAME.sub(
        lambda m: "(" + LABEL + ")" if m.group("after") is not None else LABEL, text
    )
    return NAME_JOINED_TO_NAME.sub(
        lambda m: m.group(0) if m.group(0).casefold() in NOT_NAME_WORDS else LABEL, text
    )


# -- other languages ---------------------------------------------------------------------------
_LATIN_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĐ][A-Za-zÀ-ÖØ-öø-ÿĀ-žƠ-ưẠ-ỹĐđ'’-]+"
_PARTICLE = r"(?:de|da|do|dos|das|van|von|thị|văn)"
_LATIN_NAME = rf"{_LATIN_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+)?{_LATIN_NAME_WORD}){{0,3}}"
# Capitalised words after "I'm" that are not names.
NOT_LATIN_NAMES = frozenset(
    """japanese brazilian vietnamese chinese korean american filipino nepali indian foreign
    new not a an the from moving going living here pregnant married single retired student
    sorry ok okay just also still sick disabled unemployed elderly old looking trying calling
    writing back interested worried confused planning in at on sou um uma brasileira brasileiro
    estrangeiro estrangeira grávida casado casada aposentado aposentada estudante người
    i my me mom dad city hall ward office where what how can could is do does when which who
    why please thanks thank good excuse would will there this that it i'm just anyone everyone
    olá ola oi bom boa obrigado obrigada por onde como quando qual xin chào cảm tôi em ic id pc
    atm usb qr""".split()
)
LATIN_INTRODUCTIONS = re.compile(
    r"(?i:\b(?:my name is|my name's|name is|name:|i am called|i'm called|call me|this is|"
    r"i am|i'm|im|it's|here is|mr\.?|mrs\.?|ms\.?|miss|dr\.?|"
    r"(?:my|our) (?:son|daughter|wife|husband|mother|father|mom|mum|dad|child|kid|baby|"
    r"grandmother|grandfather|grandma|grandpa|friend|partner|brother|sister)"
    r"(?:'s name is|,| is| named)?|"
    r"named|name|nome|titular|tên|its|hi|hello|hey|"
    r"meu nome é|meu nome e|me chamo|chamo-me|eu sou|sou o|sou a|sou|aqui é|aqui e|nome:|"
    r"nome é|(?:meu|minha) (?:filho|filha|marido|esposa|mulher|mãe|mae|pai|neto|neta|avó|avô)|"
    r"tên tôi là|tôi tên là|tôi tên|tên là|tên:|tôi là|em là|em tên là|em tên|"
    r"mình tên là|mình tên|mình là|"
    r"chồng em là|vợ em là|con em là|chồng em|vợ em|"
    r"con (?:trai|gái) tôi(?: tên là| là)?|vợ tôi|chồng tôi|mẹ tôi|bố tôi)\s+)"
    rf"(?P<name>{_LATIN_NAME})"
)
# Romaji names inside Japanese: 「Tanaka Hanakoです」.
ROMAJI_BEFORE_JAPANESE = re.compile(
    rf"(?<![A-Za-z])(?P<name>{_LATIN_NAME_WORD}(?:\s+{_LATIN_NAME_WORD}){{0,2}})\s*"
    r"(?=です|と申|と言|といい|さん|様|\s+(?:desu|to mou?shimasu|to iimasu|here\b|speaking\b))"
)
_CHINESE_SURNAMES = (
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾"
    "肖田董袁潘于蒋蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范金石廖贾賈夏韦付方白邹鄒孟熊秦"
    "邱江尹薛闫段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢严嚴覃武戴莫孔向汤湯欧歐阮裴吴"
)
CHINESE_NAME = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|名字是|名字叫|姓名[:：是为]\s*|本人叫|(?:儿子|兒子|女儿|女兒|妻子|丈夫|"
    r"老公|老婆|母亲|母親|父亲|父親|妈妈|媽媽|爸爸|孩子)(?:叫|名叫|的名字是|的名字叫))\s*"
    r"(?P<name>[\u4e00-\u9fff]{2,4}?)(?=[，,。.!！?？\s的在要想有是]|$)"
    rf"|(?:我是|我姓|我|儿子|兒子|女儿|女兒|妻子|丈夫|老公|老婆|母亲|母親|父亲|父親|妈妈|媽媽|爸爸|孩子|"
    r"出生的|名字[:：])\s*"
    rf"(?P<surnamed>[{_CHINESE_SURNAMES}][\u4e00-\u9fff]{{1,3}}?)"
    r"(?=[，,、。.!！?？\s(（]|是|的|[一二三四五六七八九十0-9]+岁|$)"
    rf"|(?:^|(?<=[，,。\s]))(?P<owner>[{_CHINESE_SURNAMES}][\u4e00-\u9fff]{{1,2}}?)"
    r"(?=的(?:家属|家屬|妻子|丈夫|儿子|兒子|女儿|女兒|母亲|父亲|孩子|家人|代理))"
    r"|我姓(?P<surname>[\u4e00-\u9fff])"
    # A name set off by spaces: 「的 周杰 申请」.
    rf"|(?:^|(?<=\s))(?P<spaced>[{_CHINESE_SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=\s)"
)
_KOREAN_SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진지엄채원천"
    "방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용"
)
NOT_KOREAN_NAMES = frozenset(
    "학생 외국인 회사원 주부 엄마 아빠 유학생 한국인 일본인 중국인 베트남인 처음 여기 직장인 "
    "임산부 "
    "노인 장애인 신입 이번 이사 어디 여기 저기 거기 무엇 누구 이거 그거 저거 오늘 내일 어제 "
    "지금 어떻게 언제 얼마".split()
)
KOREAN_NAME = re.compile(
    rf"(?:저는|나는|제\s*이름은|이름은|이름:|이름이|본인은|저|제\s*(?:아들|딸|남편|아내|어머니|아버지)(?:은|는|이)?)\s*"
    rf"(?P<name>[{_KOREAN_SURNAMES}][가-힣]{{1,3}}?)(?=입니다|이에요|예요|이고|인데|라고|이라고|입니당|씨|$|[\s,.!?])"
    r"|(?P<said>[가-힣]{2,4}?)(?:이)?라고\s*(?:합니다|해요|하는데)"
    rf"|(?:어머니|아버지|남편|아내|아들|딸|엄마|아빠|할머니|할아버지|와이프)\s+(?P<family>[가-힣]{{2,4}}?)"
    r"(?=\s*(?:씨|님|이|가|는|은|의|를|$|[\s,.(]))"
    rf"|(?<![가-힣])(?P<honored>[{_KOREAN_SURNAMES}][가-힣]{{1,3}}?)\s*(?:씨|님)(?![가-힣])"
    rf"|(?:^|(?<=[\s,.!?ㅎ]))(?P<plain>[{_KOREAN_SURNAMES}][가-힣]{{1,2}}?)(?=입니다|이에요|예요|이고요|인데요)"
    rf"|^\s*(?P<opening>[{_KOREAN_SURNAMES}][가-힣]{{2}})(?=\s*[,，])"
)


# Two to four capitalised words in a row are a name, unless they are words of the city's
# business or of the sentence ("My Number Card", "Japan Post Bank", "Where Can I").
NOT_NAME_WORDS = NOT_LATIN_NAMES | frozenset(
    """card number my japan post bank office city hall ward town village prefecture national
    health insurance pension tax residence certificate registration resident residents line
    google apple android iphone portal mynaportal myna english japanese chinese korean
    vietnamese portuguese brazil vietnam china korea philippines nepal canada america usa
    tokyo osaka kyoto yokohama sakura sakurano monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december are am was were have has had will shall should must may might
    you he she we they his her our your their its good morning afternoon evening dear sir
    madam hello hi hey thanks thank welcome yes no not and or but if then so also because
    the of for to in on at by with from about into over after before under mr mrs ms dr
    juminhyo koseki hoikuen zairyu kaado kokumin kenko hoken nenkin juminzei jido teate
    kyufukin mynumber covid ok fyi asap atm id ic pdf faq sms qr wifi wi-fi app
    eu meu minha quero preciso posso gostaria onde como quando qual quanto obrigado
    obrigada bom dia boa tarde noite olá oi cartão seguro imposto prefeitura
    tôi em chị cho xin chào cảm ơn làm sao ở đâu khi nào bao nhiêu thẻ hỏi giúp
    nacional saúde pensão previdência social service digital promotion volunteer support
    center centre legal public welfare child children education school hospital clinic
    việt nam hiểm y tế quốc dân cục quản lý xuất nhập cảnh thứ hai ba tư năm sáu bảy
    chủ nhật phí lương hưu trợ cấp trường mầm non nhà chính tòa sở pittari kokuho
    houterasu hello-work hellowork work""".split()
)
_NAME_RUN = re.compile(
    rf"(?<![A-Za-zÀ-ỹ0-9'’-]){_LATIN_NAME_WORD}(?:\s+(?:(?:de|da|do|dos|das|van|von)\s+)?{_LATIN_NAME_WORD}){{1,3}}"
)
# A single given name after a Vietnamese or Portuguese word for a person: "bé Minh", "em Bảo".
_KIN_THEN_NAME = re.compile(
    rf"(?:\b(?:bé|em|anh|chị|con|cháu|ông|bà|cô|chú|Chị|Anh|Em|Bé)\s+)(?P<name>{_LATIN_NAME_WORD})"
)


def capitalised_name_spans(text: str) -> Iterator[Span]:
    for match in _NAME_RUN.finditer(text):
        words = list(re.finditer(r"\S+", match.group(0)))
        # Trim words of the sentence or the city's business from both ends.
        while words and words[0].group(0).strip(",.").casefold() in NOT_NAME_WORDS:
            words.pop(0)
        while words and words[-1].group(0).strip(",.").casefold() in NOT_NAME_WORDS:
            words.pop()
        if len(words) >= 2 and not any(w.group(0).casefold() in NOT_NAME_WORDS for w in words):
            start = match.start()
            yield Span(start + words[0].start(), start + words[-1].end(), LABEL)
    for match in _KIN_THEN_NAME.finditer(text):
        if match.group("name").casefold() not in NOT_NAME_WORDS:
            yield Span(match.start("name"), match.end("name"), LABEL)


# Characters Chinese writes and Japanese does not.
CHINESE_ONLY = re.compile(r"[的了吗请么们这个为说儿妈爸请问办领证书们还没]")


def other_language_name_spans(text: str) -> Iterator[Span]:
    yield from capitalised_name_spans(text)
    for pattern in (LATIN_INTRODUCTIONS, ROMAJI_BEFORE_JAPANESE):
        for match in pattern.finditer(text):
            words = list(re.finditer(r"\S+", match.group("name")))
            if not words or words[0].group(0).casefold() in NOT_LATIN_NAMES:
                continue
            start = match.start("name")
            yield Span(start, start + words[-1].end(), LABEL)
    for match in CHINESE_NAME.finditer(text):
        group = next(
            g for g in ("name", "surnamed", "owner", "surname", "spaced") if match.group(g)
        )
        if group == "spaced" and not CHINESE_ONLY.search(text):  # 「火葬 許可 申請」 is Japanese
            continue
        yield Span(match.start(group), match.end(group), LABEL)
    for match in KOREAN_NAME.finditer(text):
        group = next(
            g for g in ("name", "said", "family", "honored", "plain", "opening") if match.group(g)
        )
        if match.group(group) not in NOT_KOREAN_NAMES:
            yield Span(match.start(group), match.end(group), LABEL)


def name_spans(text: str) -> Iterator[Span]:
    yield from japanese_name_spans(text)
    yield from katakana_and_hiragana_name_spans(text)
    yield from other_language_name_spans(text)
