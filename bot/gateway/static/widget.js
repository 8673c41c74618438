/*
 * Madoguchi chat widget. A city page embeds it with one tag:
 *
 *   <script src="https://GATEWAY/static/widget.js" defer></script>
 *
 * Options come from data- attributes on that tag, or from window.MadoguchiConfig set before
 * it (see the README, "Website widget"). Every text — the resident's and the assistant's —
 * is put into the page with textContent or createTextNode, never as HTML.
 */
(function () {
  "use strict";
  if (window.__madoguchiWidget) { return; }
  window.__madoguchiWidget = true;

  var LANGS = ["ja", "en", "zh", "ko", "vi", "pt"];
  var LANG_NAMES = { ja: "日本語", en: "English", zh: "中文", ko: "한국어", vi: "Tiếng Việt", pt: "Português" };
  var STORE_KEY = "madoguchi-widget";
  var MAX_HISTORY = 200;
  var MAX_TEXT = 5000;

  var UI = {
    title: { ja: "市役所 質問窓口", en: "City Hall Help", zh: "市政府咨询窗口", ko: "시청 문의 창구", vi: "Hỏi đáp Tòa thị chính", pt: "Atendimento da Prefeitura" },
    open: { ja: "質問する", en: "Ask a question", zh: "提问", ko: "질문하기", vi: "Đặt câu hỏi", pt: "Fazer uma pergunta" },
    close: { ja: "閉じる", en: "Close", zh: "关闭", ko: "닫기", vi: "Đóng", pt: "Fechar" },
    send: { ja: "送信", en: "Send", zh: "发送", ko: "보내기", vi: "Gửi", pt: "Enviar" },
    input: { ja: "質問を入力（Enterで送信、Shift+Enterで改行）", en: "Type your question (Enter sends, Shift+Enter adds a line)", zh: "请输入问题（按Enter发送，Shift+Enter换行）", ko: "질문을 입력하세요 (Enter로 보내기, Shift+Enter로 줄바꿈)", vi: "Nhập câu hỏi (Enter để gửi, Shift+Enter để xuống dòng)", pt: "Digite sua pergunta (Enter envia, Shift+Enter quebra a linha)" },
    placeholder: { ja: "例：マイナンバーカードをなくした", en: "e.g. I lost my My Number card", zh: "例：个人编号卡丢了", ko: "예: 마이넘버카드를 잃어버렸어요", vi: "VD: Tôi làm mất thẻ My Number", pt: "Ex.: Perdi meu cartão My Number" },
    welcome: { ja: "こんにちは。手続きやマイナンバーカードについて、質問をどうぞ。", en: "Hello. Ask me about city procedures or the My Number card.", zh: "您好。请提出有关手续或个人编号卡的问题。", ko: "안녕하세요. 각종 절차나 마이넘버카드에 대해 질문해 주세요.", vi: "Xin chào. Hãy hỏi về thủ tục hoặc thẻ My Number.", pt: "Olá. Pergunte sobre procedimentos ou o cartão My Number." },
    language: { ja: "言語", en: "Language", zh: "语言", ko: "언어", vi: "Ngôn ngữ", pt: "Idioma" },
    conversation: { ja: "会話", en: "Conversation", zh: "对话", ko: "대화", vi: "Cuộc trò chuyện", pt: "Conversa" },
    you: { ja: "あなた", en: "You", zh: "您", ko: "나", vi: "Bạn", pt: "Você" },
    bot: { ja: "窓口", en: "Help desk", zh: "窗口", ko: "창구", vi: "Quầy hỏi đáp", pt: "Atendimento" },
    typing: { ja: "回答を作成しています…", en: "Writing an answer…", zh: "正在回答…", ko: "답변을 작성하고 있습니다…", vi: "Đang trả lời…", pt: "Escrevendo a resposta…" },
    offline: { ja: "サーバーに接続できません。しばらくしてから、もう一度お試しください。入力した質問は残っています。", en: "Cannot reach the server. Please try again in a moment. Your question has been kept.", zh: "无法连接服务器。请稍后再试。您输入的问题已保留。", ko: "서버에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요. 입력한 질문은 남아 있습니다.", vi: "Không kết nối được máy chủ. Vui lòng thử lại sau. Câu hỏi của bạn vẫn được giữ lại.", pt: "Não foi possível conectar ao servidor. Tente novamente em instantes. Sua pergunta foi mantida." },
    busy: { ja: "ただいま混み合っています。少し時間をおいて、もう一度お試しください。", en: "The service is busy. Please wait a moment and try again.", zh: "当前访问人数较多，请稍后再试。", ko: "지금 이용자가 많습니다. 잠시 후 다시 시도해 주세요.", vi: "Hệ thống đang bận. Vui lòng thử lại sau ít phút.", pt: "O serviço está ocupado. Aguarde um momento e tente novamente." },
    retry: { ja: "もう一度送信", en: "Send again", zh: "重新发送", ko: "다시 보내기", vi: "Gửi lại", pt: "Enviar novamente" },
    unsent: { ja: "未送信", en: "Not sent", zh: "未发送", ko: "보내지 않음", vi: "Chưa gửi", pt: "Não enviada" },
    helpful: { ja: "役に立ちましたか？", en: "Was this helpful?", zh: "这个回答有帮助吗？", ko: "도움이 되었나요?", vi: "Câu trả lời có hữu ích không?", pt: "Isso ajudou?" },
    yes: { ja: "はい", en: "Yes", zh: "是", ko: "네", vi: "Có", pt: "Sim" },
    no: { ja: "いいえ", en: "No", zh: "否", ko: "아니요", vi: "Không", pt: "Não" },
    thanks: { ja: "ご回答ありがとうございました。", en: "Thank you for your feedback.", zh: "感谢您的反馈。", ko: "의견 감사합니다.", vi: "Cảm ơn ý kiến của bạn.", pt: "Obrigado pelo retorno." },
    person: { ja: "職員に問い合わせる", en: "Talk to a person", zh: "联系工作人员", ko: "직원에게 문의", vi: "Liên hệ nhân viên", pt: "Falar com um funcionário" },
    openNow: { ja: "ただいま窓口は開いています。", en: "The office is open now.", zh: "窗口现在正在办公。", ko: "지금 창구가 열려 있습니다.", vi: "Văn phòng đang mở cửa.", pt: "O atendimento está aberto agora." },
    closedNow: { ja: "ただいま窓口は閉まっています。", en: "The office is closed now.", zh: "窗口现在不在办公时间。", ko: "지금은 창구 운영 시간이 아닙니다.", vi: "Văn phòng hiện đang đóng cửa.", pt: "O atendimento está fechado agora." },
    call: { ja: "電話をかける", en: "Call", zh: "拨打电话", ko: "전화하기", vi: "Gọi điện", pt: "Ligar" },
    suggestions: { ja: "候補", en: "Suggestions", zh: "建议", ko: "추천", vi: "Gợi ý", pt: "Sugestões" },
    newWindow: { ja: "（新しいウィンドウで開きます）", en: " (opens in a new window)", zh: "（在新窗口中打开）", ko: " (새 창에서 열림)", vi: " (mở trong cửa sổ mới)", pt: " (abre em nova janela)" }
  };

  // ---- configuration -------------------------------------------------------------------
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var given = window.MadoguchiConfig || {};
  function option(name, attr) {
    if (given[name] !== undefined && given[name] !== null) { return String(given[name]); }
    return data[attr || name];
  }
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var config = {
    gateway: (option("gateway") || scriptOrigin).replace(/\/+$/, ""),
    title: option("title") || "",
    lang: option("lang") || "",
    color: option("color") || "",
    textColor: option("textColor") || "",
    position: option("position") === "left" ? "left" : "right",
    open: option("open") === "true"
  };

  function pageLang() {
    var l = (document.documentElement.lang || "").toLowerCase().slice(0, 2);
    return LANGS.indexOf(l) >= 0 ? l : "ja";
  }

  // ---- state kept for this tab (sessionStorage survives reloads, not new tabs) ---------
  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved.session_id === "string" && Array.isArray(saved.history)) { return saved; }
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return null;
  }
  function newSessionId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var state = load() || {
    session_id: newSessionId(),
    lang: LANGS.indexOf(config.lang) >= 0 ? config.lang : pageLang(),
    open: config.open,
    history: []
  };
  function save() {
    state.history = state.history.slice(-MAX_HISTORY);
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function t(key, lang) { return UI[key][lang || state.lang] || UI[key].ja; }

  // The language answers come in: the resident's choice in the menu, otherwise what the
  // assistant detected from the last question (the menu's first value only sets the UI).
  function conversationLang() {
    if (state.chosen) { return state.lang; }
    for (var i = state.history.length - 1; i >= 0; i--) {
      if (state.history[i].who === "bot" && state.history[i].reply) { return state.history[i].lang; }
    }
    return state.lang;
  }

  // ---- DOM helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function button(className, text, onClick) {
    var b = el("button", className, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // URLs in answers become links; everything else stays text.
  var URL_RE = /https?:\/\/[^\s<>"'）」』】、。，]+/g;
  function appendLinked(parent, text) {
    var last = 0;
    text.replace(URL_RE, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = el("a", "mdg-link", url);
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.appendChild(el("span", "mdg-sr", t("newWindow")));
      parent.appendChild(a);
      last = offset + url.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---- building the widget -------------------------------------------------------------
  var root = el("div", "mdg-root mdg-" + config.position);
  root.hidden = true; // until the stylesheet has loaded
  if (config.color) { root.style.setProperty("--mdg-accent", config.color); }
  if (config.textColor) { root.style.setProperty("--mdg-on-accent", config.textColor); }

  var launcher = el("button", "mdg-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "mdg-panel");
  var launcherIcon = el("span", "mdg-launcher-icon");
  launcherIcon.setAttribute("aria-hidden", "true");
  launcherIcon.textContent = "?";
  var launcherText = el("span", "mdg-launcher-text");
  launcher.appendChild(launcherIcon);
  launcher.appendChild(launcherText);

  var panel = el("section", "mdg-panel");
  panel.id = "mdg-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "mdg-title");

  var header = el("div", "mdg-header");
  var title = el("h2", "mdg-title");
  title.id = "mdg-title";
  var langLabel = el("label", "mdg-sr");
  langLabel.htmlFor = "mdg-lang";
  var langSelect = el("select", "mdg-lang");
  langSelect.id = "mdg-lang";
  LANGS.forEach(function (code) {
    var opt = el("option", null, LANG_NAMES[code]);
    opt.value = code;
    opt.lang = code;
    langSelect.appendChild(opt);
  });
  var closeButton = button("mdg-close", "", function () { setOpen(false); });
  closeButton.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
  var closeLabel = el("span", "mdg-sr");
  closeButton.appendChild(closeLabel);
  header.appendChild(title);
  header.appendChild(langLabel);
  header.appendChild(langSelect);
  header.appendChild(closeButton);

  var log = el("div", "mdg-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.tabIndex = 0; // scrollable by keyboard

  var typing = el("div", "mdg-typing");
  typing.hidden = true;
  var dots = el("span", "mdg-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  var typingText = el("span", "mdg-typing-text");
  typing.appendChild(dots);
  typing.appendChild(typingText);
  typing.setAttribute("role", "status");

  var alertBox = el("div", "mdg-alert");
  alertBox.setAttribute("role", "alert");
  alertBox.hidden = true;

  var form = el("form", "mdg-form");
  var inputLabel = el("label", "mdg-sr");
  inputLabel.htmlFor = "mdg-input";
  var input = el("textarea", "mdg-input");
  input.id = "mdg-input";
  input.rows = 2;
  input.maxLength = MAX_TEXT;
  input.autocomplete = "off";
  var sendButton = el("button", "mdg-send");
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  var personButton = button("mdg-person", "", function () { showContact(); });

  var footer = el("div", "mdg-footer");
  footer.appendChild(personButton);

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(alertBox);
  panel.appendChild(form);
  panel.appendChild(footer);
  root.appendChild(panel);
  root.appendChild(launcher);

  // ---- rendering messages --------------------------------------------------------------
  var nodes = new WeakMap(); // history entry -> its element in the log

  function renderEntry(entry) {
    var item = el("div", "mdg-msg mdg-" + entry.who);
    item.lang = entry.lang || state.lang;
    var who = el("span", "mdg-sr", (entry.who === "user" ? t("you") : t("bot")) + ": ");
    who.lang = state.lang;
    item.appendChild(who);
    if (entry.status) {
      var status = t(entry.status === "open" ? "openNow" : "closedNow", item.lang);
      item.appendChild(el("strong", "mdg-status mdg-status-" + entry.status, status));
    }
    var body = el("div", "mdg-text");
    appendLinked(body, entry.text);
    item.appendChild(body);
    if (entry.phone) {
      var call = el("a", "mdg-call", t("call", item.lang) + " " + entry.phone);
      call.href = "tel:" + entry.phone.replace(/[^0-9+]/g, "");
      item.appendChild(call);
    }
    if (entry.who === "user" && entry.unsent) {
      item.classList.add("mdg-unsent");
      item.appendChild(el("span", "mdg-unsent-mark", t("unsent")));
    }
    log.appendChild(item);
    nodes.set(entry, item);
    if (entry.quick_replies && entry.quick_replies.length) {
      var group = el("div", "mdg-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("suggestions"));
      group.lang = entry.lang || state.lang;
      entry.quick_replies.forEach(function (q) {
        group.appendChild(button("mdg-reply", q.title, function () {
          ask(q.payload, q.title);
          input.focus();
        }));
      });
      log.appendChild(group);
    }
    if (entry.faq_id && entry.feedback_asked) { log.appendChild(renderFeedback(entry)); }
    return item;
  }

  function renderFeedback(entry) {
    var box = el("div", "mdg-feedback");
    var lang = entry.lang || state.lang;
    box.lang = lang;
    if (entry.feedback !== undefined && entry.feedback !== null) {
      box.appendChild(el("p", "mdg-feedback-done", t("thanks", lang)));
      return box;
    }
    var question = el("span", "mdg-feedback-question", t("helpful", lang));
    question.id = "mdg-fb-" + Math.random().toString(36).slice(2);
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", question.id);
    box.appendChild(question);
    [["yes", true], ["no", false]].forEach(function (pair) {
      box.appendChild(button("mdg-feedback-button", t(pair[0], lang), function () {
        sendFeedback(entry, pair[1], box);
      }));
    });
    return box;
  }

  function renderAll() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    renderEntry({ who: "bot", text: t("welcome"), lang: state.lang });
    state.history.forEach(renderEntry);
    scrollDown();
  }

  function add(entry) {
    state.history.push(entry);
    save();
    var node = renderEntry(entry);
    scrollDown();
    return node;
  }

  // A long answer is read from its beginning: show its first line, not its end.
  function scrollToStart(node) {
    if (node && node.offsetTop < log.scrollTop) { log.scrollTop = Math.max(0, node.offsetTop - 8); }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function applyLanguage() {
    root.lang = state.lang;
    title.textContent = config.title || t("title");
    launcherText.textContent = t("open");
    launcher.setAttribute("aria-expanded", String(state.open));
    closeLabel.textContent = t("close");
    langLabel.textContent = t("language");
    langSelect.value = state.lang;
    log.setAttribute("aria-label", t("conversation"));
    typingText.textContent = t("typing");
    inputLabel.textContent = t("input");
    input.placeholder = t("placeholder");
    sendButton.textContent = t("send");
    personButton.textContent = t("person");
    var retry = alertBox.querySelector(".mdg-retry");
    if (retry) { retry.textContent = t("retry"); }
  }

  // ---- talking to the gateway ----------------------------------------------------------
  var busy = false;

  function post(path, body) {
    return fetch(config.gateway + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    });
  }

  function showAlert(key) {
    while (alertBox.firstChild) { alertBox.removeChild(alertBox.firstChild); }
    alertBox.appendChild(el("p", "mdg-alert-text", t(key)));
    alertBox.appendChild(button("mdg-retry", t("retry"), retrySend));
    alertBox.hidden = false;
  }
  function hideAlert() {
    alertBox.hidden = true;
    while (alertBox.firstChild) { alertBox.removeChild(alertBox.firstChild); }
  }

  function pendingEntry() {
    for (var i = state.history.length - 1; i >= 0; i--) {
      if (state.history[i].who === "user" && state.history[i].unsent) { return state.history[i]; }
    }
    return null;
  }

  function retrySend() {
    var entry = pendingEntry();
    if (entry) { deliver(entry); }
  }

  // `text` is what is sent; `shown` what the resident sees (a suggestion's title).
  function ask(text, shown) {
    text = (text || "").trim();
    if (!text || busy) { return; }
    var entry = { who: "user", text: shown || text, payload: text, lang: conversationLang(), unsent: true };
    add(entry);
    deliver(entry);
  }

  function deliver(entry) {
    busy = true;
    hideAlert();
    typing.hidden = false;
    sendButton.disabled = true;
    scrollDown();
    var request = { session_id: state.session_id, text: entry.payload || entry.text };
    if (state.chosen) { request.lang = state.lang; }
    post("/api/chat", request)
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (result) {
        if (result.status !== 200 || !Array.isArray(result.body.messages)) {
          var failure = new Error(result.status === 429 ? "busy" : "offline");
          // A 503 says whom to ask meanwhile; the question stays, to be sent again.
          failure.said = result.status === 503 && Array.isArray(result.body.messages) ? result.body.messages : [];
          throw failure;
        }
        entry.unsent = false;
        var replyLang = LANGS.indexOf(result.body.lang) >= 0 ? result.body.lang : conversationLang();
        var messages = result.body.messages;
        var lastFaq = -1;
        messages.forEach(function (m, i) { if (m.faq_id) { lastFaq = i; } });
        var sent = nodes.get(entry);
        if (sent) {
          sent.classList.remove("mdg-unsent");
          var mark = sent.querySelector(".mdg-unsent-mark");
          if (mark) { sent.removeChild(mark); }
        }
        save();
        var firstNew = null;
        messages.forEach(function (m, i) {
          var shown = add({
            who: "bot",
            text: String(m.text || ""),
            lang: replyLang,
            reply: true,
            faq_id: m.faq_id || null,
            feedback_asked: i === lastFaq,
            quick_replies: Array.isArray(m.quick_replies) ? m.quick_replies : []
          });
          firstNew = firstNew || shown;
        });
        scrollToStart(firstNew);
      })
      .catch(function (error) {
        ((error && error.said) || []).forEach(function (m) {
          add({ who: "bot", text: String(m.text || ""), lang: conversationLang() });
        });
        showAlert(error && error.message === "busy" ? "busy" : "offline");
      })
      .then(function () {
        busy = false;
        typing.hidden = true;
        sendButton.disabled = false;
      });
  }

  function sendFeedback(entry, helpful, box) {
    Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
    post("/api/feedback", { session_id: state.session_id, faq_id: entry.faq_id, helpful: helpful, lang: entry.lang || state.lang })
      .then(function (response) {
        if (!response.ok) { throw new Error("feedback " + response.status); }
        return response.json();
      })
      .then(function (body) {
        entry.feedback = helpful;
        save();
        box.parentNode.replaceChild(renderFeedback(entry), box);
        if (body.message) { add({ who: "bot", text: String(body.message), lang: entry.lang || state.lang }); }
      })
      .catch(function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = false; });
        showAlert("offline");
      });
  }

  function lastFaqId() {
    for (var i = state.history.length - 1; i >= 0; i--) {
      if (state.history[i].faq_id) { return state.history[i].faq_id; }
    }
    return null;
  }

  function showContact() {
    var lang = conversationLang();
    var url = config.gateway + "/api/contact?lang=" + encodeURIComponent(lang);
    var faq = lastFaqId();
    if (faq) { url += "&faq_id=" + encodeURIComponent(faq); }
    fetch(url, { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) { throw new Error("contact " + response.status); }
        return response.json();
      })
      .then(function (body) {
        var status = body.open_now === true ? "open" : body.open_now === false ? "closed" : null;
        add({ who: "bot", status: status, text: String(body.text || ""), phone: body.phone ? String(body.phone) : "", lang: lang });
      })
      .catch(function () { showAlert("offline"); });
  }

  // ---- opening, closing, keyboard ------------------------------------------------------
  function setOpen(open, moveFocus) {
    state.open = open;
    save();
    panel.hidden = !open;
    root.classList.toggle("mdg-is-open", open);
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    if (moveFocus === false) { return; }
    if (open) {
      scrollDown();
      input.focus();
    } else {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault(); // Enter while choosing kanji (IME) must not send
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    ask(text);
  });
  langSelect.addEventListener("change", function () {
    if (LANGS.indexOf(langSelect.value) < 0) { return; }
    state.lang = langSelect.value;
    state.chosen = true;
    save();
    applyLanguage();
    renderAll();
  });

  // ---- start ---------------------------------------------------------------------------
  function start() {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = config.gateway + "/static/widget.css";
    css.addEventListener("load", function () { root.hidden = false; });
    css.addEventListener("error", function () { root.hidden = false; });
    document.head.appendChild(css);
    document.body.appendChild(root);
    applyLanguage();
    renderAll();
    setOpen(state.open, false);
    if (pendingEntry()) { showAlert("offline"); }
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
