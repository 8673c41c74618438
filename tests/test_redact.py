import pytest

from bot.privacy.redact import redact

MY_NUMBERS = [
    "123456789012",
    "1234 5678 9012",
    "1234-5678-9012",
    "１２３４５６７８９０１２",
    "１２３４－５６７８－９０１２",
    "1234　5678　9012",
]


@pytest.mark.parametrize("number", MY_NUMBERS)
def test_my_number_in_any_form_is_removed(number: str) -> None:
    out = redact(f"私のマイナンバーは{number}です")
    assert "[個人番号]" in out
    assert not any(ch.isdigit() for ch in out)


@pytest.mark.parametrize(
    "phone",
    [
        "090-1234-5678",
        "09012345678",
        "03-1234-5678",
        "０３（１２３４）５６７８",
        "+81 90 1234 5678",
    ],
)
def test_phone_numbers_are_removed(phone: str) -> None:
    out = redact(f"電話は{phone}まで")
    assert "[電話番号]" in out
    assert not any(ch.isdigit() for ch in out)


def test_email_postal_code_address_and_card() -> None:
    out = redact(
        "taro.yamada+x@example.co.jp 〒123-4567 東京都千代田区1-2-3。カード4111 1111 1111 1111"
    )
    assert "example" not in out and "taro" not in out
    # The postal code and the address are labelled apart, so the rest of the text stays.
    assert "[郵便番号] [住所]" in out and "千代田" not in out
    assert "[カード番号]" in out
    assert not any(ch.isdigit() for ch in out)


def test_ordinary_text_is_left_alone() -> None:
    text = "転入届は14日以内に出してください。2026年11月20日、9時から17時まで"
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("東京都新宿区西新宿2-8-1に住んでいます", "西新宿2-8-1"),
        ("さくらの市中央1丁目2番3号です", "中央1丁目2番3号"),
        ("大阪市北区梅田３－１－１", "梅田3-1-1"),
        ("福岡県福岡市博多区博多駅前1丁目2番地", "博多駅前1丁目"),
        ("さくらの市桜町3番地の者です", "桜町3番地"),
    ],
)
def test_addresses_without_a_postal_code_are_removed(text: str, secret: str) -> None:
    out = redact(text)
    assert "[住所]" in out and secret not in out
    assert not any(ch.isdigit() for ch in out)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("私は山田太郎です。転入届について", "山田太郎"),
        ("名前は佐藤 花子です", "佐藤 花子"),
        ("氏名：鈴木一郎", "鈴木一郎"),
        ("高橋と申します。児童手当について", "高橋"),
        ("私はグエン・ヴァン・アンです", "グエン・ヴァン・アン"),
        ("Hello, my name is John Smith", "John Smith"),
    ],
)
def test_names_residents_introduce_are_removed(text: str, name: str) -> None:
    out = redact(text)
    assert name not in out
    assert "[氏名]" in out or "[name]" in out


@pytest.mark.parametrize(
    "text",
    [
        "私は会社員です",
        "私は外国人です",
        "私は学生です",
        "マイナンバーカードの名前は変更できますか",
        "さくらの市の住民票を取りたい",
        "お名前は？",
        "市役所は何時までですか",
    ],
)
def test_ordinary_sentences_keep_their_words(text: str) -> None:
    assert redact(text) == text.replace("？", "?")
