// The chat page: talks to this server's OpenAI-compatible API (GET v1/models, POST
// v1/chat/completions streamed as server-sent events), keeps chats and settings in
// localStorage, renders answers as a safe subset of Markdown (text is escaped first).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KEYS = { chats: 'hearth.chats', current: 'hearth.current', settings: 'hearth.settings' };
  const MAX_CHATS = 100;

  // ---- storage ----

  function load(key, fallback) {
    try {
      const v = JSON.parse(localStorage.getItem(key));
      return v === null || v === undefined ? fallback : v;
    } catch {
      return fallback;
    }
  }

  function store(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      showError('This browser would not save the chat (' + e.message + '): delete some old chats.');
    }
  }

  const settings = Object.assign({ system: '', temperature: '', topP: '', maxTokens: '', apiKey: '', model: '' },
    load(KEYS.settings, {}));
  /** The chats as stored, less anything malformed (storage is shared with whatever else ran on this origin). */
  function storedChats() {
    const list = load(KEYS.chats, []);
    if (!Array.isArray(list)) return [];
    const ok = list.filter((c) => c && typeof c.id === 'string' && Array.isArray(c.messages));
    for (const c of ok) {
      c.messages = c.messages.filter((m) => m && (m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string');
      if (typeof c.updated !== 'number') c.updated = 0;
    }
    return ok;
  }

  let chats = storedChats();
  for (const c of chats) {
    for (const m of c.messages) if (m.state === 'streaming') m.state = 'stopped'; // the page was closed mid-answer
  }
  let currentId = load(KEYS.current, null);
  let running = null; // { controller, chat, msg }

  function saveChats() {
    chats.sort((a, b) => b.updated - a.updated);
    if (chats.length > MAX_CHATS) chats.length = MAX_CHATS;
    store(KEYS.chats, chats);
    store(KEYS.current, currentId);
  }

  function currentChat() {
    return chats.find((c) => c.id === currentId) || null;
  }

  // ---- Markdown: escape first, then a few constructs that only add fixed tags ----

  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => ESC[c]);
  }

  function safeUrl(url) {
    return /^(https?:\/\/|mailto:)/i.test(url);
  }

  function emphasis(s) {
    return s
      .replace(/\*\*(?=\S)([^*\n]*?\S)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[^\w])__(?=\S)([^_\n]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
      .replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*]|[^\s*])\*(?!\*)/g, '$1<em>$2</em>')
      .replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_]|[^\s_])_(?!\w)/g, '$1<em>$2</em>');
  }

  /** One line of text to HTML: code spans and links are set aside first so emphasis cannot reach into them. */
  function inline(text) {
    const held = [];
    const hold = (html) => '\u0000' + (held.push(html) - 1) + '\u0000';
    let s = escapeHtml(text);
    s = s.replace(/`([^`\n]+)`/g, (m, code) => hold('<code>' + code + '</code>'));
    s = s.replace(/\[([^\]\n]+)\]\(([^()\s]+)\)/g, (m, label, url) =>
      safeUrl(url) ? hold('<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + emphasis(label) + '</a>') : m);
    s = s.replace(/(^|[\s(])(https?:\/\/[^\s<>()\u0000]+[^\s<>().,;:!?'"\u0000])/g, (m, pre, url) =>
      pre + hold('<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + url + '</a>'));
    s = emphasis(s);
    return s.replace(/\u0000(\d+)\u0000/g, (m, i) => held[Number(i)]);
  }

  const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
  const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
  const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
  const BULLET = /^\s*[-*+]\s+(.*)$/;
  const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
  const QUOTE = /^\s{0,3}>\s?(.*)$/;

  function blockStart(line) {
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || BULLET.test(line) || NUMBERED.test(line) || QUOTE.test(line);
  }

  function markdown(src) {
    const lines = src.replace(/\u0000/g, '').replace(/\r\n?/g, '\n').split('\n');
    const out = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if ((m = FENCE.exec(line))) {
        const fence = m[1];
        const lang = m[2];
        const body = [];
        i++;
        while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
        i++; // the closing fence, if any: while an answer streams, an open block runs to the end
        out.push('<pre><code' + (lang ? ' class="language-' + escapeHtml(lang) + '"' : '') + '>' + escapeHtml(body.join('\n')) + '</code></pre>');
      } else if ((m = HEADING.exec(line))) {
        const n = m[1].length;
        out.push('<h' + n + '>' + inline(m[2]) + '</h' + n + '>');
        i++;
      } else if (RULE.test(line)) {
        out.push('<hr>');
        i++;
      } else if (BULLET.test(line) || NUMBERED.test(line)) {
        const ordered = !BULLET.test(line);
        const re = ordered ? NUMBERED : BULLET;
        const start = ordered ? Number(NUMBERED.exec(line)[1]) : 1;
        const items = [];
        while (i < lines.length && (m = re.exec(lines[i]))) {
          let item = ordered ? m[2] : m[1];
          i++;
          while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !blockStart(lines[i])) item += ' ' + lines[i++].trim();
          items.push('<li>' + inline(item) + '</li>');
        }
        const tag = ordered ? 'ol' : 'ul';
        out.push('<' + tag + (ordered && start !== 1 ? ' start="' + start + '"' : '') + '>' + items.join('') + '</' + tag + '>');
      } else if (QUOTE.test(line)) {
        const inner = [];
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
          inner.push(m[1]);
          i++;
        }
        out.push('<blockquote>' + markdown(inner.join('\n')) + '</blockquote>');
      } else if (!line.trim()) {
        i++;
      } else {
        const para = [line];
        i++;
        while (i < lines.length && lines[i].trim() && !blockStart(lines[i])) para.push(lines[i++]);
        out.push('<p>' + para.map(inline).join('<br>') + '</p>');
      }
    }
    return out.join('');
  }

  // ---- the page ----

  const messagesEl = $('messages');
  const promptEl = $('prompt');
  const elements = new WeakMap(); // message -> its element

  function showError(text) {
    const e = $('error');
    e.textContent = text;
    e.hidden = false;
  }

  function clearError() {
    const e = $('error');
    e.hidden = true;
    e.textContent = '';
  }

  function authHeaders(extra) {
    const h = Object.assign({}, extra);
    if (settings.apiKey) h.Authorization = 'Bearer ' + settings.apiKey;
    return h;
  }

  function metaText(msg) {
    const parts = [];
    if (msg.state === 'streaming') parts.push('answering…');
    if (msg.state === 'stopped') parts.push('stopped');
    if (msg.state === 'failed') parts.push('failed: ' + (msg.error || 'unknown error'));
    const s = msg.stats;
    if (s) {
      // without the server's count (a stopped answer), the pieces received stand in for tokens
      if (s.tokens) parts.push((s.counted === 'chunks' ? 'about ' : '') + s.tokens + (s.tokens === 1 ? ' token' : ' tokens'));
      if (s.tps) parts.push(s.tps.toFixed(1) + ' tokens/s');
      if (s.finish === 'length') parts.push('cut at the token limit');
    }
    if (msg.model) parts.push(msg.model);
    return parts.join(' · ');
  }

  function renderMessage(msg) {
    let el = elements.get(msg);
    if (!el) {
      el = document.createElement('article');
      el.className = 'msg ' + msg.role;
      const who = document.createElement('div');
      who.className = 'who';
      who.textContent = msg.role === 'user' ? 'You' : 'Assistant';
      const content = document.createElement('div');
      content.className = 'content';
      el.append(who, content);
      if (msg.role === 'assistant') {
        const meta = document.createElement('div');
        meta.className = 'meta';
        el.append(meta);
      }
      elements.set(msg, el);
    }
    const content = el.querySelector('.content');
    if (msg.role === 'user') {
      content.textContent = msg.content;
    } else {
      content.innerHTML = markdown(msg.content);
      const meta = el.querySelector('.meta');
      meta.textContent = metaText(msg);
      meta.className = 'meta' + (msg.state === 'stopped' || msg.state === 'failed' ? ' ' + msg.state : '');
      el.setAttribute('aria-busy', msg.state === 'streaming' ? 'true' : 'false');
    }
    return el;
  }

  function renderMessages() {
    const chat = currentChat();
    messagesEl.replaceChildren();
    if (!chat || chat.messages.length === 0) {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = 'Start a conversation: type a message below.';
      messagesEl.append(p);
      return;
    }
    for (const m of chat.messages) messagesEl.append(renderMessage(m));
    messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  function renderList() {
    const list = $('chat-list');
    list.replaceChildren();
    for (const c of chats) {
      const li = document.createElement('li');
      if (c.id === currentId) li.className = 'current';
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'open';
      open.textContent = c.title || 'Chat';
      open.title = c.title || 'Chat';
      if (c.id === currentId) open.setAttribute('aria-current', 'true');
      open.addEventListener('click', () => {
        currentId = c.id;
        store(KEYS.current, currentId);
        closeSidebar();
        render();
        promptEl.focus();
      });
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'delete';
      del.textContent = '×';
      del.setAttribute('aria-label', 'Delete chat: ' + (c.title || 'Chat'));
      del.addEventListener('click', () => {
        if (running && running.chat === c) running.controller.abort();
        chats = chats.filter((x) => x !== c);
        if (currentId === c.id) currentId = null;
        saveChats();
        render();
        $('new-chat').focus();
      });
      li.append(open, del);
      list.append(li);
    }
  }

  function render() {
    renderList();
    renderMessages();
  }

  function nearBottom() {
    return messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
  }

  let pending = false;
  function update(msg) {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      const stick = nearBottom();
      renderMessage(msg);
      if (stick) messagesEl.scrollTop = messagesEl.scrollHeight;
    });
  }

  function setRunning(on) {
    $('send').hidden = on;
    $('stop').hidden = !on;
    if (!on && document.activeElement === document.body) promptEl.focus();
  }

  // ---- talking to the server ----

  async function errorOf(res) {
    let message = '';
    try {
      const body = await res.json();
      const e = body && body.error;
      message = typeof e === 'string' ? e : e && e.message ? e.message : '';
    } catch {
      // not JSON: the status says enough
    }
    if (res.status === 401) return 'The server needs an API key: enter it in Settings. ' + message;
    if (res.status === 503) return 'The server is busy (' + (message || 'no free slot') + '): try again in a moment.';
    return 'The server answered ' + res.status + (message ? ': ' + message : '.');
  }

  async function loadModels() {
    const select = $('model');
    try {
      const res = await fetch('v1/models', { headers: authHeaders({}) });
      if (!res.ok) {
        showError(await errorOf(res));
        return;
      }
      const body = await res.json();
      const ids = (body.data || []).map((m) => m.id).filter((id) => typeof id === 'string');
      select.replaceChildren();
      for (const id of ids) {
        const o = document.createElement('option');
        o.value = id;
        o.textContent = id;
        select.append(o);
      }
      if (ids.length === 0) {
        showError('The server lists no models.');
        return;
      }
      select.value = ids.includes(settings.model) ? settings.model : ids[0];
      clearError();
    } catch (e) {
      showError('Could not reach the server to list its models (' + e.message + ').');
    }
  }

  function numberSetting(v) {
    if (v === '' || v === null || v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }

  function requestMessages(chat) {
    const out = [];
    if (settings.system.trim()) out.push({ role: 'system', content: settings.system });
    for (const m of chat.messages) {
      if (m.state === 'streaming') continue;
      if (m.role === 'assistant' && !m.content) continue;
      out.push({ role: m.role, content: m.content });
    }
    return out;
  }

  async function send(text) {
    if (running || !text.trim()) return;
    const model = $('model').value;
    if (!model) {
      showError('There is no model to answer: the server listed none. Reload the page when it has one.');
      return;
    }
    clearError();
    let chat = currentChat();
    if (!chat) {
      chat = { id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8), title: '', updated: Date.now(), messages: [] };
      chats.unshift(chat);
      currentId = chat.id;
    }
    if (!chat.title) chat.title = text.trim().split('\n')[0].slice(0, 60);
    const question = { role: 'user', content: text };
    chat.messages.push(question);
    const body = {
      model,
      messages: requestMessages(chat),
      stream: true,
      stream_options: { include_usage: true },
    };
    const temperature = numberSetting(settings.temperature);
    const topP = numberSetting(settings.topP);
    const maxTokens = numberSetting(settings.maxTokens);
    if (temperature !== undefined) body.temperature = temperature;
    if (topP !== undefined) body.top_p = topP;
    if (maxTokens !== undefined) body.max_tokens = maxTokens;
    const msg = { role: 'assistant', content: '', model, state: 'streaming' };
    chat.messages.push(msg);
    chat.updated = Date.now();
    saveChats();
    render();
    promptEl.value = '';
    const controller = new AbortController();
    running = { controller, chat, msg };
    setRunning(true);

    const started = performance.now();
    let first = 0;
    let chunks = 0;
    let usage = null;
    let finish = null;
    let lastSave = started;
    try {
      const res = await fetch('v1/chat/completions', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (!res.ok) throw new Error(await errorOf(res));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let done = false;
      while (!done) {
        const r = await reader.read();
        if (r.done) break;
        buf += r.value.replace(/\r\n?/g, '\n');
        let cut;
        while (!done && (cut = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
          if (!data) continue;
          if (data === '[DONE]') {
            done = true;
            break;
          }
          const obj = JSON.parse(data);
          if (obj.error) throw new Error(typeof obj.error === 'string' ? obj.error : obj.error.message || 'The server reported an error.');
          if (obj.usage) usage = obj.usage;
          const choice = obj.choices && obj.choices[0];
          if (!choice) continue;
          const piece = choice.delta && choice.delta.content;
          if (piece) {
            if (!first) first = performance.now();
            chunks++;
            msg.content += piece;
            const now = performance.now();
            if (chunks > 1) $('speed').textContent = ((chunks - 1) / ((now - first) / 1000)).toFixed(1) + ' tokens/s';
            update(msg);
            if (now - lastSave > 1000) {
              lastSave = now;
              store(KEYS.chats, chats);
            }
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
      if (done) reader.cancel().catch(() => {});
      msg.state = 'done';
    } catch (e) {
      if (controller.signal.aborted) {
        msg.state = 'stopped';
      } else {
        msg.state = 'failed';
        msg.error = e instanceof SyntaxError ? 'the server sent something that is not JSON' : e.message;
      }
    }
    const end = performance.now();
    const tokens = usage ? usage.completion_tokens : chunks;
    const tps = first && end > first && tokens > 1 ? (tokens - 1) / ((end - first) / 1000) : null;
    msg.stats = { tokens, tps, finish, counted: usage ? 'usage' : 'chunks' };
    $('speed').textContent = tps ? tps.toFixed(1) + ' tokens/s' : '';
    running = null;
    chat.updated = Date.now();
    if (msg.state === 'failed' && !msg.content) {
      // nothing came back: take the question back into the box so that it can be sent again
      chat.messages.splice(chat.messages.indexOf(question), 2);
      if (chat.messages.length === 0) {
        chats = chats.filter((c) => c !== chat);
        if (currentId === chat.id) currentId = null;
      }
      if (!promptEl.value) promptEl.value = text;
      saveChats();
      render();
    } else {
      saveChats();
      renderList();
      if (chat === currentChat()) renderMessage(msg);
    }
    if (msg.state === 'failed') showError(msg.error);
    setRunning(false);
  }

  function stop() {
    if (running) running.controller.abort();
  }

  // ---- settings and the side list ----

  function openSettings() {
    $('system').value = settings.system;
    $('temperature').value = settings.temperature;
    $('top-p').value = settings.topP;
    $('max-tokens').value = settings.maxTokens;
    $('api-key').value = settings.apiKey;
    $('settings').showModal();
  }

  function saveSettings() {
    const keyChanged = settings.apiKey !== $('api-key').value.trim();
    settings.system = $('system').value;
    settings.temperature = $('temperature').value;
    settings.topP = $('top-p').value;
    settings.maxTokens = $('max-tokens').value;
    settings.apiKey = $('api-key').value.trim();
    store(KEYS.settings, settings);
    if (keyChanged) loadModels();
  }

  function closeSidebar() {
    $('app').classList.remove('chats-open');
    $('toggle-chats').setAttribute('aria-expanded', 'false');
  }

  function init() {
    $('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      send(promptEl.value);
    });
    promptEl.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send(promptEl.value);
      } else if (e.key === 'Escape' && running) {
        e.preventDefault();
        stop();
      }
    });
    $('stop').addEventListener('click', () => {
      stop();
      promptEl.focus();
    });
    $('new-chat').addEventListener('click', () => {
      currentId = null;
      store(KEYS.current, currentId);
      clearError();
      closeSidebar();
      render();
      promptEl.focus();
    });
    $('model').addEventListener('change', () => {
      settings.model = $('model').value;
      store(KEYS.settings, settings);
    });
    $('open-settings').addEventListener('click', openSettings);
    $('settings-form').addEventListener('submit', saveSettings);
    $('cancel-settings').addEventListener('click', () => $('settings').close());
    $('toggle-chats').addEventListener('click', () => {
      const open = $('app').classList.toggle('chats-open');
      $('toggle-chats').setAttribute('aria-expanded', String(open));
      if (open) $('new-chat').focus();
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && $('app').classList.contains('chats-open')) {
        closeSidebar();
        $('toggle-chats').focus();
      }
    });
    // another tab of this page changed the chats: show them (unless an answer is streaming here)
    window.addEventListener('storage', (e) => {
      if (running || (e.key !== KEYS.chats && e.key !== null)) return;
      chats = storedChats();
      if (currentId && !currentChat()) currentId = null;
      render();
    });
    if (currentId && !currentChat()) currentId = null;
    render();
    loadModels();
    promptEl.focus();
  }

  init();
})();
