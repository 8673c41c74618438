"""What the assistant says in its own words, in each of its languages.

FAQ answers come from the corpus; these are the few sentences around them. ``{contact}``
is filled from the municipality profile.
"""

from __future__ import annotations

from bot.faq.profile import DEFAULT_LANG

MESSAGES: dict[str, dict[str, str]] = {
    "greet": {
        "ja": "こんにちは。{city}のお問い合わせ窓口です。手続きやマイナンバーカードについて、質問をどうぞ。",
        "en": "Hello. This is the {city} help desk. Ask me about procedures or the My Number card.",
        "zh": "您好，这里是{city}的咨询窗口。请提出有关手续或个人编号卡的问题。",
        "ko": "안녕하세요. {city} 문의 창구입니다. 각종 절차나 마이넘버카드에 대해 질문해 주세요.",
        "vi": "Xin chào. Đây là quầy hỏi đáp của {city}. Hãy hỏi về thủ tục hoặc thẻ My Number.",
        "pt": "Olá. Este é o atendimento de {city}. Pergunte sobre procedimentos ou o cartão My Number.",
    },
    "goodbye": {
        "ja": "ご利用ありがとうございました。またいつでもどうぞ。",
        "en": "Thank you for asking. Come back any time.",
        "zh": "感谢您的使用，欢迎随时再来。",
        "ko": "이용해 주셔서 감사합니다. 언제든지 다시 찾아 주세요.",
        "vi": "Cảm ơn bạn. Hãy quay lại bất cứ lúc nào.",
        "pt": "Obrigado pela visita. Volte quando quiser.",
    },
    "thanks": {
        "ja": "どういたしまして。ほかにも質問があればどうぞ。",
        "en": "You're welcome. Ask me anything else you need.",
        "zh": "不客气。如有其他问题，请随时提问。",
        "ko": "천만에요. 다른 질문도 편하게 해 주세요.",
        "vi": "Không có gì. Bạn cứ hỏi thêm nếu cần.",
        "pt": "De nada. Pode perguntar mais se precisar.",
    },
    "cannot_answer": {
        "ja": "申し訳ありません。そのご質問にはお答えできません。\n担当窓口にお問い合わせください。\n{contact}",
        "en": "Sorry, I can't answer that question.\nPlease contact the city office.\n{contact}",
        "zh": "很抱歉，无法回答这个问题。\n请联系负责窗口。\n{contact}",
        "ko": "죄송합니다. 그 질문에는 답변드릴 수 없습니다.\n담당 창구로 문의해 주세요.\n{contact}",
        "vi": "Xin lỗi, tôi không thể trả lời câu hỏi này.\nVui lòng liên hệ quầy phụ trách.\n{contact}",
        "pt": "Desculpe, não consigo responder a essa pergunta.\nEntre em contato com a prefeitura.\n{contact}",
    },
    "contact_human": {
        "ja": "職員へのお問い合わせは、こちらへどうぞ。\n{contact}",
        "en": "To talk to a member of staff, please contact:\n{contact}",
        "zh": "如需咨询工作人员，请联系：\n{contact}",
        "ko": "직원에게 문의하시려면 아래로 연락해 주세요.\n{contact}",
        "vi": "Để nói chuyện với nhân viên, vui lòng liên hệ:\n{contact}",
        "pt": "Para falar com um funcionário, entre em contato:\n{contact}",
    },
    "did_you_mean": {
        "ja": "もしかして、次のご質問ですか？",
        "en": "Did you mean one of these?",
        "zh": "您是不是想问以下问题？",
        "ko": "혹시 다음 질문을 찾으시나요?",
        "vi": "Có phải bạn muốn hỏi một trong những câu sau?",
        "pt": "Você quis dizer uma destas perguntas?",
    },
    "which_one": {
        "ja": "どの手続きについてですか？ 下から選ぶか、ひとことで教えてください。",
        "en": "Which one do you mean? Choose below, or tell me in a few words.",
        "zh": "您问的是哪一项？请在下面选择，或简单告诉我。",
        "ko": "어느 쪽에 대해 궁금하신가요? 아래에서 고르시거나 간단히 알려 주세요.",
        "vi": "Bạn muốn hỏi về việc nào? Hãy chọn bên dưới hoặc cho tôi biết ngắn gọn.",
        "pt": "Sobre qual delas? Escolha abaixo ou diga em poucas palavras.",
    },
    "related": {
        "ja": "関連する質問：",
        "en": "Related questions:",
        "zh": "相关问题：",
        "ko": "관련 질문:",
        "vi": "Câu hỏi liên quan:",
        "pt": "Perguntas relacionadas:",
    },
    "untranslated": {
        "ja": "",
        "en": "(This answer is not yet available in English; here it is in Japanese.)",
        "zh": "（此回答尚无中文版本，以下为日语。）",
        "ko": "(이 답변은 아직 한국어로 제공되지 않아 일본어로 안내합니다.)",
        "vi": "(Câu trả lời này chưa có bằng tiếng Việt; dưới đây là tiếng Nhật.)",
        "pt": "(Esta resposta ainda não está disponível em português; segue em japonês.)",
    },
    "welcome": {
        "ja": "友だち追加ありがとうございます。{city}のお問い合わせ窓口です。24時間、手続きやマイナンバーカードについてお答えします。\nご希望の言語を選んでください。Please choose your language.",
    },
    "choose_language": {
        "ja": "ご希望の言語を選んでください。Please choose your language.",
        "en": "Please choose your language. ご希望の言語を選んでください。",
    },
    "language_set": {
        "ja": "日本語でご案内します。ご質問をどうぞ。",
        "en": "I will answer in English. Please ask your question.",
        "zh": "将用中文为您解答。请提问。",
        "ko": "한국어로 안내해 드리겠습니다. 질문해 주세요.",
        "vi": "Tôi sẽ trả lời bằng tiếng Việt. Mời bạn đặt câu hỏi.",
        "pt": "Vou responder em português. Faça sua pergunta.",
    },
    "text_only": {
        "ja": "申し訳ありません。文字でご質問を入力してください。",
        "en": "Sorry, I can only read text. Please type your question.",
        "zh": "抱歉，我只能读取文字。请用文字输入您的问题。",
        "ko": "죄송합니다. 질문을 글자로 입력해 주세요.",
        "vi": "Xin lỗi, tôi chỉ đọc được chữ. Vui lòng nhập câu hỏi bằng chữ.",
        "pt": "Desculpe, só consigo ler texto. Digite sua pergunta, por favor.",
    },
    "one_to_one_only": {
        "ja": "このアカウントへのご質問は、1対1のトークでお送りください。グループではお答えできません。",
        "en": "Please ask me in a one-to-one chat. I can't answer in groups.",
    },
    "helpful_prompt": {
        "ja": "役に立ちましたか？",
        "en": "Was this helpful?",
        "zh": "这个回答有帮助吗？",
        "ko": "도움이 되었나요?",
        "vi": "Câu trả lời có hữu ích không?",
        "pt": "Isso ajudou?",
    },
    "yes": {"ja": "はい", "en": "Yes", "zh": "是", "ko": "네", "vi": "Có", "pt": "Sim"},
    "no": {"ja": "いいえ", "en": "No", "zh": "否", "ko": "아니요", "vi": "Không", "pt": "Não"},
    "thanks_for_feedback": {
        "ja": "ご回答ありがとうございました。",
        "en": "Thank you for your feedback.",
        "zh": "感谢您的反馈。",
        "ko": "의견 감사합니다.",
        "vi": "Cảm ơn ý kiến của bạn.",
        "pt": "Obrigado pelo retorno.",
    },
    "not_helpful": {
        "ja": "お役に立てず申し訳ありません。担当窓口にお問い合わせください。\n{contact}",
        "en": "Sorry that did not help. Please contact the office in charge:\n{contact}",
        "zh": "很抱歉没能帮上忙。请联系负责窗口：\n{contact}",
        "ko": "도움이 되지 못해 죄송합니다. 담당 창구로 문의해 주세요.\n{contact}",
        "vi": "Xin lỗi vì chưa giúp được bạn. Vui lòng liên hệ quầy phụ trách:\n{contact}",
        "pt": "Desculpe não ter ajudado. Entre em contato com o setor responsável:\n{contact}",
    },
    "too_long": {
        "ja": "メッセージが長すぎます。{limit}文字以内で、質問を短くして送ってください。",
        "en": "Your message is too long. Please send a shorter question (up to {limit} characters).",
        "zh": "消息太长了。请把问题缩短到{limit}个字符以内再发送。",
        "ko": "메시지가 너무 깁니다. {limit}자 이내로 질문을 짧게 보내 주세요.",
        "vi": "Tin nhắn quá dài. Vui lòng gửi câu hỏi ngắn hơn (tối đa {limit} ký tự).",
        "pt": "Sua mensagem é longa demais. Envie uma pergunta mais curta (até {limit} caracteres).",
    },
    # When Rasa or the action server cannot answer: what happened, and who can.
    "unavailable": {
        "ja": "申し訳ありません。ただいま自動応答でお答えできません。少し時間をおいてもう一度お送りいただくか、次の窓口にお問い合わせください。\n{contact}",
        "en": "Sorry, the assistant cannot answer right now. Please send your question again in a little while, or contact:\n{contact}",
        "zh": "抱歉，自动回复目前无法回答。请稍后再发送一次，或联系以下窗口：\n{contact}",
        "ko": "죄송합니다. 지금은 자동 응답으로 답변할 수 없습니다. 잠시 후 다시 보내 주시거나 아래 창구로 문의해 주세요.\n{contact}",
        "vi": "Xin lỗi, trợ lý tự động hiện không trả lời được. Vui lòng gửi lại câu hỏi sau ít phút, hoặc liên hệ:\n{contact}",
        "pt": "Desculpe, o assistente não consegue responder agora. Envie a pergunta de novo daqui a pouco ou entre em contato com:\n{contact}",
    },
}

# How each language names itself, for language pickers.
LANGUAGE_NAMES = {
    "ja": "日本語",
    "en": "English",
    "zh": "中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
}


def say(key: str, lang: str, **values: str) -> str:
    """The message ``key`` in ``lang`` (Japanese if missing), with ``values`` filled in."""
    texts = MESSAGES[key]
    template = texts.get(lang) or texts[DEFAULT_LANG]
    return template.format(**values) if values else template
