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
        "taro.yamada+x@example.co.jp 〒123-4567 東京都千代田区1-2-3 カード4111 1111 1111 1111"
    )
    assert "example" not in out and "taro" not in out
    assert "[郵便番号][住所]" in out and "千代田" not in out
    assert "[カード番号]" in out
    assert not any(ch.isdigit() for ch in out)


def test_ordinary_text_is_left_alone() -> None:
    text = "転入届は14日以内に出してください。2026年11月20日、9時から17時まで"
    assert redact(text) == text
