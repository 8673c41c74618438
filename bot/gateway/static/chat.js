// Minimal chat box for the gateway's demo page. Everything is rendered as text.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var key = "madoguchi-session";
  var session = sessionStorage.getItem(key);
  if (!session) {
    session = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    sessionStorage.setItem(key, session);
  }

  function add(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function send(text) {
    add(text, "user");
    fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: session, text: text })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { add(res.body.error || "エラーが発生しました。", "bot error"); return; }
      res.body.messages.forEach(function (m) {
        var div = add(m.text, "bot");
        div.lang = res.body.lang || "ja";
        if (m.quick_replies && m.quick_replies.length) {
          var box = document.createElement("div");
          box.className = "replies";
          m.quick_replies.forEach(function (q) {
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = q.title;
            b.addEventListener("click", function () { send(q.payload); });
            box.appendChild(b);
          });
          div.appendChild(box);
        }
      });
    }).catch(function () {
      add("サーバーに接続できません。しばらくしてからもう一度お試しください。 (Cannot reach the server.)", "bot error");
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
})();
