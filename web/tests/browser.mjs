// The browser test: Debian's headless Chromium, driven by playwright-core,
// walks the web pages of a running Gorod (GOROD_URL) as its people would.
// A resident files a report with a photo on a phone-sized screen and finds
// it on the map; the roads supervisor accepts it; a crew member takes it
// from the queue and answers with a photo; the resident refutes the answer
// and the report reopens; the supervisor's dashboard shows it escalated.
// On the way: the resident's update with a photo, the supervisor's edit as
// moderator, a canned answer, a bulk accept from the queue, and a
// neighbour's area alert.
// Screenshots of every page go to ARTIFACTS (default target/browser).
import { chromium } from "playwright-core";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";

const base = process.env.GOROD_URL || "http://127.0.0.1:8080";
const out = process.env.ARTIFACTS || "target/browser";
const password = "demo-password-2026";
const totpSecret = "GORODDEMOGORODDEMOGORODDEMO23456";
fs.mkdirSync(out, { recursive: true });

// RFC 6238 with the demo staff's secret: the code of the current step.
function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = crypto.createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const problems = [];
let shot = 0;

// axe-core checks the page as it is now; a serious or critical violation
// is a problem the test reports (with where it is).
const axeSource = fs.readFileSync(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url), "utf8");
async function audit(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.evaluate(axeSource);
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
  });
  for (const v of violations) problems.push(`${what}: axe: ${v}`);
}

async function person(name, options) {
  const context = await browser.newContext({ baseURL: base, ...options });
  const page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`${name}: script error: ${e.message}`));
  page.on("console", (m) => {
    // Map tiles cannot load on a machine without the internet; that is
    // expected and the map must work without them.
    if (m.type() === "error" && !/Failed to load resource|ERR_NAME_NOT_RESOLVED|ERR_INTERNET|tile\.openstreetmap/.test(m.text())) {
      problems.push(`${name}: console: ${m.text()}`);
    }
  });
  page.snap = async (what) => {
    shot += 1;
    await page.screenshot({ path: path.join(out, `${String(shot).padStart(2, "0")}-${name}-${what}.png`), fullPage: true });
    await audit(page, `${name} ${what}`);
    // Nothing sits off-screen: on a phone, tables become cards.
    const [wide, view] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    if (wide > view + 1) problems.push(`${name} ${what}: ${wide}px wide in a ${view}px window`);
  };
  return page;
}

// The link to `part` in the newest message to `to` in the mail directory
// the server writes (MAIL_DIR), waiting for the outbox to send it.
async function emailedLink(to, part) {
  const dir = process.env.MAIL_DIR;
  assert.ok(dir, "MAIL_DIR names the server's mail directory");
  for (let i = 0; i < 100; i += 1) {
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".eml")) : [];
    for (const file of files) {
      const text = fs.readFileSync(path.join(dir, file), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      if (!text.includes(`To: ${to}`)) continue;
      const link = text.match(new RegExp(`https?://[^\\s"<>]*${part}[^\\s"<>]*`));
      // The server may be on another port than the address it writes.
      if (link) return new URL(link[0]).pathname;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`no message to ${to} with a link to ${part}`);
}

// Logs in through the login page; staff give the authenticator's code (a
// code is taken once: if this step's was just used, the next step's).
async function logIn(page, email, staff) {
  await page.goto("/login", { waitUntil: "domcontentloaded" });
  await page.getByLabel(/Эл. почта|Email/).fill(email);
  await page.getByLabel(/^(Пароль|Password)$/).fill(password);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (staff) {
      await page.locator("#login-form").getByLabel(/Код из приложения|Authenticator code/).fill(totp(totpSecret));
    }
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/v1/account/login")),
      page.getByRole("button", { name: /Войти|Log in/ }).last().click(),
    ]);
    if (response.status() === 200) {
      await page.waitForURL((u) => u.pathname === "/");
      return;
    }
    await page.waitForTimeout(30000 - (Date.now() % 30000) + 500);
  }
  assert.fail(`${email} could not log in`);
}

// Presses a button that sends its form to the API and reloads the page;
// an error answer fails the test with the API's words.
async function send(page, button) {
  const navigated = page.waitForEvent("framenavigated");
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/api/v1/") && r.request().method() !== "GET"),
    button.click(),
  ]);
  if (response.status() >= 400) {
    assert.fail(`${response.url()}: ${response.status()} ${await response.text()}`);
  }
  await navigated;
  await page.waitForLoadState("load");
}

async function act(page, action, fill) {
  const form = page.locator(`#action-${action}`);
  if (fill) await fill(form);
  await send(page, form.locator('button[type="submit"]'));
}

// 1. A resident on a phone: logs in, files a pothole with a photo.
const resident = await person("resident", {
  viewport: { width: 390, height: 844 },
  locale: "ru-RU",
  isMobile: true,
  hasTouch: true,
});
await resident.goto("/", { waitUntil: "domcontentloaded" });
await resident.waitForSelector("#map[data-loaded]");
// Beside the map, the reports in view, a page at a time; a legend of the
// pins' colours.
await resident.locator("#in-view-list .card").first().waitFor();
assert.equal(await resident.locator("#in-view-list .card").count(), 10);
const inView = Number(await resident.locator("#in-view-list").getAttribute("data-total"));
assert.ok(inView > 10, `${inView} reports in view`);
assert.match(await resident.locator("#in-view-count").textContent(), new RegExp(`^1–10 из ${inView}$`));
await resident.locator("#in-view-next").click();
await resident.locator("#in-view-count").filter({ hasText: /^11–/ }).waitFor();
assert.equal(await resident.locator("#in-view-previous").isDisabled(), false);
assert.equal(await resident.locator(".legend li").count(), 6);
await resident.snap("map");
await logIn(resident, "resident1@demo.gorod.local");

await resident.goto("/new", { waitUntil: "domcontentloaded" });
assert.equal(await resident.locator("h1").textContent(), "Сообщить о проблеме");
// A pin by tapping the map (no tiles load here): the coordinates fill in.
await resident.locator("#pick-map").click({ position: { x: 180, y: 150 } });
assert.match(await resident.locator("#lat").inputValue(), /^\d+\.\d{6}$/);
// Then typed by hand, to a point in the Tverskoy district.
await resident.locator("#lat").fill("55.770400");
await resident.locator("#lon").fill("37.605100");
await resident.locator("#lon").press("Tab");
// The searchable category picker, in groups: a group's name finds its
// categories; typing narrows it, Enter takes the first.
assert.equal(await resident.locator("#cat-list .cat-group").first().locator(".group").textContent(), "Дороги и тротуары");
await resident.getByLabel("Найти категорию").fill("светофоры");
assert.equal(await resident.locator("#cat-list .cat-group:not([hidden])").count(), 1);
assert.equal(await resident.locator("#cat-list .choice:not([hidden])").count(), 2);
await resident.getByLabel("Найти категорию").fill("яма на дор");
assert.equal(await resident.locator("#cat-list .choice:not([hidden])").count(), 1);
await resident.getByLabel("Найти категорию").press("Enter");
await resident.locator("fieldset[data-questions-for=pothole]").waitFor({ state: "visible" });
// Sending without the required answer shows the error next to the field.
await resident.getByLabel("Описание *").fill("Глубокая яма у перехода, машины объезжают по встречной");
await resident.getByRole("button", { name: "Отправить" }).click();
await resident.locator('[data-error-for="answers.size"]:not(:empty)').waitFor();
await resident.snap("file-error");
await resident.getByLabel("Размер ямы *").selectOption("medium");
const photo = path.join(out, "pothole.jpg");
fs.writeFileSync(photo, await resident.screenshot({ type: "jpeg", quality: 80 }));
await resident.getByLabel("Фотографии").setInputFiles(photo);
await resident.snap("file");
await Promise.all([
  resident.waitForURL(/\/reports\/\d+\?filed=1$/),
  resident.getByRole("button", { name: "Отправить" }).click(),
]);
const number = Number(resident.url().match(/\/reports\/(\d+)\?filed=1$/)[1]);
// Right after filing: the number, the deadlines and what happens next; a
// small map of the place.
assert.match(await resident.locator("#just-filed h2").textContent(), new RegExp(`Принято сообщение № ${number}$`));
assert.equal(await resident.locator("#just-filed li").count(), 3);
assert.match(await resident.locator("#just-filed li").nth(1).textContent(), /ГБУ «Автомобильные дороги»\): \d\d\.\d\d\.\d{4} \d\d:\d\d/);
await resident.locator("#place-map .pin.tone-new").waitFor();
assert.match(await resident.locator("#status").textContent(), /на модерации/);
assert.equal(await resident.locator(".photos img").count(), 1);
assert.match(await resident.locator("#days-left").textContent(), /^\d+$/);
assert.match(await resident.locator(".facts").nth(1).textContent(), /Размер ямы\s*30–100 см/);
await resident.snap("report-filed");

// It is on the map, close up: a pin in the colour of reports being
// checked, whose pop-up says what and when; the list beside the map has it.
await resident.goto("/?lat=55.7704&lon=37.6051&zoom=18", { waitUntil: "domcontentloaded" });
const pin = resident.locator(`.leaflet-marker-icon[title="№ ${number}: на модерации"]`);
await pin.waitFor();
assert.match(await pin.getAttribute("class"), /\btone-new\b/);
await resident.locator(`#in-view-list a[href="/reports/${number}"]`).waitFor();
await pin.click();
const popup = resident.locator(".leaflet-popup .popup");
await popup.locator("[data-slot=due]:not([hidden])").waitFor();
assert.match(await popup.textContent(), new RegExp(`№ ${number} · Яма на дороге`));
assert.match(await popup.locator("[data-slot=status]").textContent(), /на модерации/);
assert.match(await popup.locator("[data-slot=due]").textContent(), /^срок: \d+ [а-я]+ \d{4}/);
await popup.locator("img[data-slot=thumbnail]:not([hidden])").waitFor();
// The pop-up fades in: check and picture it once it has.
await resident.waitForFunction(() => {
  const shown = document.querySelector(".leaflet-popup");
  const photo = shown && shown.querySelector("img[data-slot=thumbnail]");
  return getComputedStyle(shown).opacity === "1" && photo.complete && photo.naturalWidth > 0;
});
// And Leaflet has moved the map to fit it.
await resident.waitForTimeout(400);
await resident.snap("map-with-report");

// A neighbour without an account starts filing the same pothole: the form
// shows the report already filed there, and "me too" joins it instead.
const neighbour = await person("neighbour", { viewport: { width: 360, height: 740 }, locale: "ru-RU", isMobile: true });
await neighbour.goto("/new", { waitUntil: "domcontentloaded" });
await neighbour.locator("#lat").fill("55.770450");
await neighbour.locator("#lon").fill("37.605150");
await neighbour.locator("#lon").press("Tab");
await neighbour.getByLabel("Найти категорию").fill("pothole");
await neighbour.getByLabel("Найти категорию").press("Enter");
const candidate = neighbour.locator("#duplicates li", { hasText: `№ ${number}` });
await candidate.waitFor();
// Before the contact details, and on the map next to the new pin.
assert.ok(await neighbour.evaluate(() => {
  const dup = document.getElementById("duplicates");
  const who = document.getElementById("email").closest("fieldset");
  return Boolean(dup.compareDocumentPosition(who) & Node.DOCUMENT_POSITION_FOLLOWING);
}), "the reports nearby come before the contact details");
await neighbour.locator(`#pick-map .pin.nearby[title="№ ${number}"]`).waitFor();
await neighbour.getByLabel("Эл. почта *").fill("neighbour@example.org");
await candidate.getByRole("button", { name: "У меня то же" }).click();
// Without logging in, the "me too" waits for the emailed link.
await candidate.getByRole("status").filter({ hasText: "подтвердите «у меня то же» по ссылке из письма" }).waitFor();
await neighbour.snap("file-me-too");
const supportLink = await emailedLink("neighbour@example.org", "/api/v1/account/confirm_support/");
await neighbour.goto(supportLink, { waitUntil: "domcontentloaded" });
await neighbour.snap("confirm-me-too");
await neighbour.getByRole("button", { name: /Подтвердить/ }).click();
await neighbour.waitForLoadState("domcontentloaded");
await neighbour.snap("me-too-confirmed");
// And registers: the page says a confirmation link is on its way.
await neighbour.goto("/register", { waitUntil: "domcontentloaded" });
await neighbour.getByLabel("Эл. почта").fill("neighbour@example.org");
await neighbour.getByLabel("Пароль").fill("a long enough password");
await neighbour.getByRole("button", { name: "Регистрация" }).last().click();
await neighbour.locator(".form-status", { hasText: "Мы отправили письмо" }).waitFor();
await neighbour.snap("register");

// 2. The roads supervisor at a desk: accepts it.
const supervisor = await person("supervisor", { viewport: { width: 1280, height: 900 }, locale: "ru-RU" });
await logIn(supervisor, "supervisor.roads@demo.gorod.local", true);
await supervisor.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
await act(supervisor, "accept");
assert.match(await supervisor.locator("#status").textContent(), /назначено/);
assert.match(await supervisor.locator("main").textContent(), /Поддержали: 2/);

// 2a. The resident adds an update with a photo to their report: it is in
// the public history with the picture (potholes' updates need no moderator).
await resident.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
await resident.getByLabel("Новость *").fill("После дождя яма стала вдвое больше");
await resident.locator("#update-photos").setInputFiles(photo);
await send(resident, resident.locator("#update-form button[type=submit]"));
const update = resident.locator(".history li", { hasText: "вдвое больше" });
await update.waitFor();
assert.equal(await update.locator("img").count(), 1, "the update's photo is shown");
await resident.snap("report-update");

// 2b. The supervisor, moderating, edits the published address with a
// reason: the public sees the new one, staff also what was filed.
await supervisor.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
await supervisor.locator("#moderation summary").click();
const filedAddress = await supervisor.locator("#edit-address").inputValue();
await supervisor.locator("#edit-address").fill("ул. Тверская, 12, у пешеходного перехода");
await supervisor.locator("#edit-reason").fill("Уточнили место по фотографии");
await send(supervisor, supervisor.locator("#edit-form button[type=submit]"));
const edits = supervisor.locator("section[aria-labelledby=edits-h]");
assert.match(await edits.textContent(), /Уточнили место по фотографии/);
if (filedAddress) assert.ok((await edits.textContent()).includes(filedAddress), "staff see what was filed");
await supervisor.snap("report-edited");
const visitorPage = await person("visitor-edit", { viewport: { width: 390, height: 844 }, isMobile: true });
await visitorPage.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
assert.match(await visitorPage.locator("main").textContent(), /у пешеходного перехода/);
assert.equal(await visitorPage.locator("section[aria-labelledby=edits-h]").count(), 0, "the edits are staff's");

// 2c. The supervisor keeps a canned answer for the roads department.
await supervisor.goto("/admin/canned", { waitUntil: "domcontentloaded" });
await supervisor.locator("#new-title").fill("Яма заделана");
await supervisor.locator("#new-department").selectOption("roads");
await supervisor.locator("#new-text").fill("Яма по адресу {address} заделана горячим асфальтом (обращение № {number}).");
await send(supervisor, supervisor.locator("#canned-new button[type=submit]"));
assert.equal(await supervisor.locator("form.canned-answer").count(), 1);
await supervisor.snap("canned");

// 2d. A bulk accept from the queue: three new potholes and one report the
// supervisor may not accept (it is not in moderation any more).
const csrf = await resident.locator('meta[name="csrf-token"]').getAttribute("content");
const fresh = [];
for (const [i, lat] of [55.7711, 55.7722, 55.7733].entries()) {
  const filed = await resident.request.post("/api/v1/reports", {
    headers: { "X-CSRF-Token": csrf },
    data: { category: "pothole", lat, lon: 37.6091, answers: { size: "small" }, description: `Выбоина на дороге, участок ${i + 1}` },
  });
  assert.equal(filed.status(), 201, await filed.text());
  fresh.push((await filed.json()).number);
}
await supervisor.goto("/queue", { waitUntil: "domcontentloaded" });
for (const n of [...fresh, number]) {
  await supervisor.locator(`tr[data-number="${n}"] input.pick`).check();
}
const bulk = supervisor.locator("form.bulk");
await bulk.getByLabel(/Действия|Actions/).selectOption("accept");
await bulk.getByRole("button", { name: "Применить" }).click();
const summary = bulk.locator(".bulk-result");
await summary.filter({ hasText: "Не выполнено" }).waitFor();
const said = await summary.textContent();
for (const n of fresh) assert.ok(said.includes(`№ ${n}`), `${n} moved: ${said}`);
assert.match(said, new RegExp(`Не выполнено:[\\s\\S]*№ ${number}`));
await supervisor.snap("queue-bulk");

// 3. A roads crew member in the field: the queue, take, answer with a photo.
const crew = await person("crew", { viewport: { width: 412, height: 915 }, locale: "en-GB", isMobile: true });
await logIn(crew, "crew1.roads@demo.gorod.local", true);
// Logging in speaks the account's language (Russian); the switcher
// changes it on this device.
await crew.goto("/queue", { waitUntil: "domcontentloaded" });
assert.equal(await crew.locator("h1").textContent(), "Очередь подразделения");
await crew.goto("/lang/en?back=/queue", { waitUntil: "domcontentloaded" });
assert.equal(await crew.locator("h1").textContent(), "Department queue");
const row = crew.locator(`tr[data-number="${number}"]`);
await row.waitFor();
await crew.snap("queue");
// Exactly the moves the workflow allows the crew now, on the report page.
await crew.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
const offered = await crew.locator("form.action").evaluateAll((fs) => fs.map((f) => f.id));
assert.deepEqual(offered, ["action-take", "action-pause", "action-answer", "action-return", "note-form"]);
await crew.snap("report-crew");
// Taking it from the queue: one click beside the report.
await crew.goto("/queue", { waitUntil: "domcontentloaded" });
assert.deepEqual(await row.locator("form.quick").evaluateAll((fs) => fs.map((f) => f.id)), [`quick-take-${number}`]);
await send(crew, row.getByRole("button", { name: "Take" }));
assert.match(await row.locator(".status").textContent(), /in progress/);
assert.equal(await row.locator("form.quick").count(), 0);
await Promise.all([crew.waitForURL(`**/reports/${number}`), row.getByRole("link").click()]);
assert.match(await crew.locator("#status").textContent(), /in progress/);
await crew.getByLabel("Note *").fill("Asphalt crew booked for tomorrow morning");
await send(crew, crew.getByRole("button", { name: "Add note" }));
await act(crew, "answer", async (form) => {
  // The canned answer fills the text with this report's number and address.
  await form.getByLabel("Canned answer").selectOption({ label: "Яма заделана" });
  const text = await form.getByLabel("Answer to the resident *").inputValue();
  assert.ok(text.includes(`№ ${number}`) && text.includes("у пешеходного перехода"), text);
  await form.getByLabel("Answer to the resident *").fill(`${text} The pothole was filled with hot asphalt.`);
  await form.getByLabel("Photo of the work done").setInputFiles(photo);
});
assert.match(await crew.locator("#status").textContent(), /answered/);
assert.equal(await crew.locator(".answer .photos img").count(), 1);
await crew.snap("report-answered");

// 4. The resident refutes the answer: the report reopens.
await resident.goto(`/reports/${number}`, { waitUntil: "domcontentloaded" });
assert.match(await resident.locator("#answer-text").textContent(), /hot asphalt/);
// The internal note is not shown to the resident.
assert.equal(await resident.getByText("Asphalt crew booked").count(), 0);
await resident.snap("report-check");
await resident.getByLabel("Что не так *").fill("Яму засыпали щебнем, асфальта нет");
await send(resident, resident.getByRole("button", { name: "Нет, не решена" }));
assert.match(await resident.locator("#status").textContent(), /переоткрыто/);
await resident.snap("report-reopened");
await resident.goto("/my", { waitUntil: "domcontentloaded" });
await resident.locator(`tr[data-number="${number}"]`).waitFor();
await resident.snap("my-reports");

// 5. The supervisor's dashboard shows it among the escalated and reopened.
await supervisor.goto("/dashboard", { waitUntil: "domcontentloaded" });
await supervisor.locator(`#escalated tr[data-number="${number}"]`).waitFor();
await supervisor.locator("#trend[data-drawn]").waitFor();
// How the reports in view did against their deadlines.
assert.match(await supervisor.locator("#on-time li").first().textContent(), /^В срок\s*\d+\.\d %/);
const csv = await supervisor.request.get(await supervisor.locator("a[download]").getAttribute("href"));
assert.equal(csv.status(), 200);
assert.match(await csv.text(), /^number,status,risk,stage/);
await supervisor.snap("dashboard");
// From the dashboard to the report: the supervisor escalates it further.
await Promise.all([
  supervisor.waitForURL(`**/reports/${number}`),
  supervisor.locator(`#escalated tr[data-number="${number}"] a`).click(),
]);
assert.equal(await supervisor.locator("#escalation-level").textContent(), "1");
await act(supervisor, "escalate", (form) => form.getByLabel("Причина *").fill("Повторная жалоба, нужен контроль"));
assert.equal(await supervisor.locator("#escalation-level").textContent(), "2");
assert.ok((await supervisor.locator("#action-assign").count()) === 1, "a supervisor may reassign a reopened report");
await supervisor.snap("report-escalated");

// 6. Public statistics, in English through the switcher.
await resident.goto("/stats", { waitUntil: "domcontentloaded" });
await Promise.all([resident.waitForURL("**/stats"), resident.getByRole("link", { name: "EN" }).click()]);
assert.equal(await resident.locator("h1").textContent(), "How the city answers");
assert.ok((await resident.locator("#stats tbody tr").count()) > 0);
await resident.snap("stats");

// 7. Filing with the keyboard alone and without the map, in English: Tab
// from the top of the page to each field, type, choose with the arrow
// keys, send with Enter.
const keyboard = await person("keyboard", { viewport: { width: 390, height: 844 }, isMobile: true });
await keyboard.goto("/new?lang=en", { waitUntil: "domcontentloaded" });
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}
await tabTo(keyboard, "#lat");
await keyboard.keyboard.type("55.770400");
await tabTo(keyboard, "#lon");
await keyboard.keyboard.type("37.605100");
await tabTo(keyboard, "#cat-search");
await keyboard.keyboard.type("pothole");
await keyboard.keyboard.press("Enter");
await keyboard.locator("fieldset[data-questions-for=pothole]").waitFor({ state: "visible" });
await tabTo(keyboard, 'fieldset[data-questions-for=pothole] select');
await keyboard.keyboard.press("ArrowDown");
await tabTo(keyboard, "#description");
await keyboard.keyboard.type("A deep pothole by the crossing; cars swerve into the oncoming lane");
await tabTo(keyboard, "#email");
await keyboard.keyboard.type("keyboard@example.org");
await keyboard.keyboard.press("Enter");
await keyboard.locator(".form-status", { hasText: "Almost done" }).waitFor();
await keyboard.snap("file-by-keyboard");

// 8. The same walk with each role's device and language swapped: a
// resident at a desk, in English, files a broken street light; the city's
// supervisor on a phone, in English, accepts it from the queue; a lighting
// crew member at a desk, in Russian, takes it from the queue and answers
// with a photo; the resident refutes; the supervisor escalates it.
const deskResident = await person("desk-resident", { viewport: { width: 1280, height: 900 }, locale: "en-GB" });
await logIn(deskResident, "resident2@demo.gorod.local");
await deskResident.goto("/lang/en?back=/new", { waitUntil: "domcontentloaded" });
// A pin beside a house fills in its address from the city's registry.
await deskResident.locator("#lat").fill("55.761000");
await deskResident.locator("#lon").fill("37.609000");
await deskResident.locator("#lon").press("Tab");
await deskResident.waitForFunction(() => document.getElementById("address").value !== "");
assert.equal(await deskResident.locator("#address").inputValue(), "Тверская улица, 9");
assert.equal(await deskResident.locator("#address-found").textContent(), "Nearest address: Тверская улица, 9 (6 m)");
// Typed, an address is found in the registry, in English too; choosing it
// moves the pin to the house.
await deskResident.getByRole("combobox", { name: "Address (optional)" }).fill("Tverskaya St 12");
await deskResident.locator("#address-list li").first().waitFor();
assert.equal(await deskResident.locator("#address-list li").first().textContent(), "Тверская улица, 12 · Tverskaya Street");
await deskResident.snap("file-address");
await deskResident.getByRole("combobox", { name: "Address (optional)" }).press("ArrowDown");
await deskResident.getByRole("combobox", { name: "Address (optional)" }).press("Enter");
assert.equal(await deskResident.locator("#address").inputValue(), "Тверская улица, 12");
assert.equal(await deskResident.locator("#lat").inputValue(), "55.761868");
assert.equal(await deskResident.locator("#address-list").isHidden(), true);
await deskResident.getByLabel("Find a category").fill("street light");
assert.equal(await deskResident.locator("#cat-list .cat-group:not([hidden]) .group").first().textContent(), "Street lighting");
await deskResident.getByLabel("Find a category").press("Enter");
// The lamp posts near the pin, on the map and in a list: picking one
// moves the pin to it.
await deskResident.locator("#objects").waitFor({ state: "visible" });
const lamp = deskResident.locator("#objects .choices label").nth(1);
const lampName = (await lamp.textContent()).trim().replace(/ — \d+ m$/, "");
assert.match(lampName, /^Lamp post No\. \d+$/);
assert.ok((await deskResident.locator("#pick-map .pin.object").count()) >= 2, "the lamp posts are on the map");
await lamp.locator("input").check();
await deskResident.locator("#pick-map .pin.object.picked").waitFor();
assert.notEqual(await deskResident.locator("#lat").inputValue(), "55.761868");
await deskResident.snap("file-object");
await deskResident.getByLabel("Description *").fill("The street light outside number 5 has been dark for a week.");
await Promise.all([
  deskResident.waitForURL(/\/reports\/\d+\?filed=1$/),
  deskResident.getByRole("button", { name: "Send" }).click(),
]);
const second = Number(deskResident.url().match(/\/reports\/(\d+)\?filed=1$/)[1]);
assert.match(await deskResident.locator("#just-filed h2").textContent(), new RegExp(`Received: report № ${second}$`));
assert.match(await deskResident.locator("#just-filed li").nth(1).textContent(), /Street Lighting Service\): \d\d\.\d\d\.\d{4}/);
// The lamp post is named on the report, with a link to its page.
const lampLink = deskResident.getByRole("link", { name: lampName });
const objectPage = await lampLink.getAttribute("href");
await deskResident.snap("report-filed");
await deskResident.goto(`${objectPage}?lang=en`, { waitUntil: "domcontentloaded" });
assert.equal(await deskResident.locator("h1").textContent(), lampName);
await deskResident.snap("object");

const phoneSupervisor = await person("phone-supervisor", { viewport: { width: 390, height: 844 }, locale: "en-GB", isMobile: true });
await logIn(phoneSupervisor, "supervisor.city@demo.gorod.local", true);
await phoneSupervisor.goto("/queue?lang=en", { waitUntil: "domcontentloaded" });
const toAccept = phoneSupervisor.locator(`tr[data-number="${second}"]`);
await send(phoneSupervisor, toAccept.getByRole("button", { name: "Accept" }));
assert.match(await toAccept.locator(".status").textContent(), /assigned/);
await phoneSupervisor.snap("queue-accepted");

const deskCrew = await person("desk-crew", { viewport: { width: 1280, height: 900 }, locale: "ru-RU" });
await logIn(deskCrew, "crew1.lighting@demo.gorod.local", true);
await deskCrew.goto("/queue?lang=ru", { waitUntil: "domcontentloaded" });
const toTake = deskCrew.locator(`tr[data-number="${second}"]`);
await send(deskCrew, toTake.getByRole("button", { name: "Взять в работу" }));
assert.match(await toTake.locator(".status").textContent(), /в работе/);
await deskCrew.goto(`/reports/${second}?lang=ru`, { waitUntil: "domcontentloaded" });
await act(deskCrew, "answer", async (form) => {
  await form.getByLabel("Ответ жителю *").fill("Заменили лампу и проверили питание.");
  await form.getByLabel("Фото выполненной работы").setInputFiles(photo);
});
assert.match(await deskCrew.locator("#status").textContent(), /решено, ждёт проверки/);
await deskCrew.snap("report-answered");

await deskResident.goto(`/reports/${second}?lang=en`, { waitUntil: "domcontentloaded" });
assert.match(await deskResident.locator("#answer-text").textContent(), /Заменили лампу/);
await deskResident.getByLabel("What is wrong *").fill("Still dark at night.");
await send(deskResident, deskResident.getByRole("button", { name: "No, it is not fixed" }));
assert.match(await deskResident.locator("#status").textContent(), /reopened/);
await deskResident.snap("report-reopened");

await phoneSupervisor.goto(`/reports/${second}?lang=en`, { waitUntil: "domcontentloaded" });
await act(phoneSupervisor, "escalate", (form) => form.getByLabel("Reason *").fill("Refuted: needs a check on site"));
assert.equal(await phoneSupervisor.locator("#escalation-level").textContent(), "2");
await phoneSupervisor.snap("report-escalated");
await phoneSupervisor.goto("/dashboard?lang=en", { waitUntil: "domcontentloaded" });
// The districts are named in the page's language.
assert.ok((await phoneSupervisor.locator("#d-district option").allTextContents()).includes("Tverskoy District"));
await phoneSupervisor.locator(`#escalated tr[data-number="${second}"]`).waitFor();
await phoneSupervisor.snap("dashboard");
await deskResident.goto("/stats?lang=ru", { waitUntil: "domcontentloaded" });
assert.equal(await deskResident.locator("h1").textContent(), "Как отвечает город");
await deskResident.snap("stats");

// 9. The staff's pages in both languages, on a desk and on a phone, as an
// admin (who sees them all): a screenshot each, and axe-core's check.
const adminDesk = await person("admin-desktop", { viewport: { width: 1280, height: 900 } });
await logIn(adminDesk, "admin@demo.gorod.local", true);
const adminPhone = await person("admin-phone", {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  storageState: await adminDesk.context().storageState(),
});
for (const [size, admin] of [["desktop", adminDesk], ["phone", adminPhone]]) {
  for (const lang of ["ru", "en"]) {
    for (const [what, where] of [["queue", "/queue"], ["dashboard", "/dashboard"], ["report", `/reports/${number}`], ["catalogue", "/admin/catalogue"], ["canned", "/admin/canned"], ["audit", "/admin/audit"], ["search", "/search?q=%D1%8F%D0%BC%D1%8B"], ["my", "/my"], ["settings", "/settings"]]) {
      await admin.goto(`${where}${where.includes("?") ? "&" : "?"}lang=${lang}`, { waitUntil: "domcontentloaded" });
      assert.equal(await admin.locator("html").getAttribute("lang"), lang, `${where} in ${lang}`);
      await admin.snap(`${lang}-${what}`);
    }
  }
}
await adminDesk.goto("/admin/catalogue", { waitUntil: "domcontentloaded" });
assert.equal(await adminDesk.locator("#categories tbody tr").count(), 23);
await adminDesk.goto("/admin/audit?object_type=report", { waitUntil: "domcontentloaded" });
assert.ok((await adminDesk.locator("#audit tbody tr").count()) > 0, "the moves of this run are in the audit log");

// 9a. Someone living nearby subscribes to new potholes near the report, daily,
// from its page; the subscription starts with the emailed link.
const watcher = await person("watcher", { viewport: { width: 390, height: 844 }, isMobile: true, locale: "en-GB" });
await watcher.goto(`/reports/${number}?lang=en`, { waitUntil: "domcontentloaded" });
await Promise.all([watcher.waitForURL(/\/alerts\?lat=/), watcher.locator("#alerts-near").click()]);
const around = watcher.locator("#alert-around");
assert.match(await around.getByLabel("Latitude").inputValue(), /^55\.77/);
await around.getByLabel("Radius, m").fill("300");
await around.getByLabel("Pothole in the road").check();
await around.getByLabel("One email a day").check();
await around.getByLabel("Email", { exact: true }).fill("watcher@example.ru");
await around.getByRole("button", { name: "Subscribe" }).click();
await around.locator(".form-status").filter({ hasText: /confirm/ }).waitFor();
await watcher.snap("alerts-held");
await watcher.goto(await emailedLink("watcher@example.ru", "/account/confirm_alert/"), { waitUntil: "domcontentloaded" });
await watcher.snap("alert-confirm");
await watcher.getByRole("button", { name: "Confirm the alert" }).click();
await watcher.getByText("Your alert is on.").waitFor();
await watcher.snap("alert-on");

// 10. Every public page in both languages, on a desk and on a phone: a
// screenshot each, and axe-core's check.
for (const [size, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
  for (const lang of ["ru", "en"]) {
    const visitor = await person(`visitor-${size}-${lang}`, { viewport, isMobile: size === "phone" });
    for (const [what, where] of [["map", "/"], ["file", "/new"], ["report", `/reports/${number}`], ["stats", "/stats"], ["alerts", "/alerts"], ["alerts-near", "/alerts?lat=55.7704&lon=37.6051"], ["open-data", "/open-data"], ["search", "/search?q=%D1%8F%D0%BC%D1%8B"], ["object", objectPage], ["login", "/login"], ["register", "/register"], ["reset", "/reset"], ["broken-link", "/api/v1/account/confirm_report/broken"], ["not-found", "/no/such/page"]]) {
      await visitor.goto(`${where}${where.includes("?") ? "&" : "?"}lang=${lang}`, { waitUntil: "domcontentloaded" });
      assert.equal(await visitor.locator("html").getAttribute("lang"), lang, `${where} in ${lang}`);
      await visitor.snap(what);
    }
  }
}

await browser.close();
assert.deepEqual(problems, [], problems.join("\n"));
console.log(`browser test passed: report № ${number} filed, answered, refuted and reopened; ${shot} screenshots in ${out}`);
