//! The words of the web pages in Russian and English. Each text is a field
//! of [`Texts`], so a template that names a missing one does not compile.

use crate::locale::Locale;

macro_rules! texts {
    ($($key:ident: $ru:literal, $en:literal;)*) => {
        /// Every text of the pages in one language.
        pub struct Texts {
            $(pub $key: &'static str,)*
        }
        pub const RU: Texts = Texts { $($key: $ru,)* };
        pub const EN: Texts = Texts { $($key: $en,)* };
    };
}

texts! {
    lang: "ru", "en";
    site: "Наш город", "Our city";
    skip: "К содержанию", "Skip to content";
    nav_map: "Карта", "Map";
    nav_file: "Сообщить о проблеме", "Report a problem";
    nav_my: "Мои сообщения", "My reports";
    nav_settings: "Настройки", "Settings";
    nav_queue: "Очередь", "Queue";
    nav_dashboard: "Сроки", "Deadlines";
    nav_stats: "Статистика", "Statistics";
    nav_catalogue: "Справочники", "Catalogue";
    nav_audit: "Журнал", "Audit log";
    nav_login: "Войти", "Log in";
    nav_register: "Регистрация", "Register";
    nav_logout: "Выйти", "Log out";
    language: "Язык", "Language";
    map_title: "Проблемы на карте", "Problems on the map";
    map_hint: "Приблизьте карту, чтобы увидеть отдельные сообщения; число в кружке — сколько их рядом.", "Zoom in to see single reports; a number in a circle is how many are nearby.";
    filters: "Фильтры", "Filters";
    status: "Статус", "Status";
    any_open: "Все открытые", "All open";
    any_status: "Любой", "Any";
    category: "Категория", "Category";
    any_category: "Все категории", "All categories";
    apply: "Показать", "Show";
    legend: "Цвет метки", "Pin colours";
    tone_new: "на модерации", "being checked";
    tone_work: "в работе", "being worked on";
    tone_paused: "приостановлено", "paused";
    tone_answered: "дан ответ, ждёт проверки", "answered, awaiting check";
    tone_done: "решено", "fixed";
    tone_off: "отклонено или повтор", "rejected or duplicate";
    audit_title: "Журнал действий", "Audit log";
    audit_hint: "Кто что изменил: действия сотрудников и администраторов, новые сверху.", "Who changed what: staff and admin actions, newest first.";
    col_when: "Когда", "When";
    col_who: "Кто", "Who";
    col_action: "Действие", "Action";
    col_object: "Объект", "Object";
    col_object_type: "Тип объекта", "Object type";
    col_change: "Изменение", "Change";
    show_change: "Показать", "Show";
    before: "Было", "Before";
    after: "Стало", "After";
    catalogue_title: "Справочники города", "The city's catalogue";
    catalogue_hint: "Как они заданы сейчас. Изменяются через API администратора (PUT /api/v1/admin/…); каждое изменение — в журнале.", "As they stand now. They are changed through the admin API (PUT /api/v1/admin/…); every change is in the audit log.";
    categories_title: "Категории", "Categories";
    groups_title: "Группы категорий", "Category groups";
    departments_title: "Подразделения", "Departments";
    areas_title: "Районы", "Districts";
    col_code: "Код", "Code";
    col_name: "Название", "Name";
    col_group: "Группа", "Group";
    col_sla: "Регламент сроков", "SLA policy";
    col_radius: "Радиус повторов, м", "Duplicate radius, m";
    col_parent: "Входит в", "Part of";
    col_routes: "Правил маршрутизации", "Routing rules";
    place_map: "Место на карте", "The place on the map";
    filed_title: "Принято сообщение", "Received: report";
    next_title: "Что будет дальше:", "What happens next:";
    next_moderation: "Модератор проверит сообщение и передаст его ответственным — до", "A moderator checks the report and passes it on — by";
    next_answer: "Ответ и работа на месте", "The answer and the work on site";
    next_check: "Вы получите письмо с ответом и сможете подтвердить, что проблема решена, или сообщить, что нет.", "You get an email with the answer, and confirm the problem is fixed or say it is not.";
    next_mail: "Письмо приходит при каждом изменении статуса, с номером сообщения в теме.", "An email comes at every change of status, with the report's number in its subject.";
    in_view: "Сообщения в этой части карты", "Reports in this part of the map";
    in_view_none: "Здесь нет сообщений с такими фильтрами.", "No reports here with these filters.";
    range_of_total: "{from}–{to} из {total}", "{from}–{to} of {total}";
    page_previous: "Назад", "Previous";
    page_next: "Дальше", "Next";
    due: "срок", "due";
    overdue_since: "срок прошёл", "overdue";
    file_title: "Сообщить о проблеме", "Report a problem";
    step_place: "Где", "Where";
    place_hint: "Нажмите на карту, чтобы поставить метку, или укажите координаты.", "Click the map to place a pin, or enter the coordinates.";
    my_location: "Моё местоположение", "My location";
    locating: "Определяем местоположение…", "Finding your location…";
    no_location: "Не удалось определить местоположение", "Your location could not be found";
    lat: "Широта", "Latitude";
    lon: "Долгота", "Longitude";
    address: "Адрес (необязательно)", "Address (optional)";
    address_hint: "Начните вводить адрес — метка встанет у дома; или поставьте метку, и адрес подставится.", "Start typing an address to move the pin to the house; or place the pin and the address fills in.";
    address_found: "Ближайший адрес", "Nearest address";
    address_suggestions: "Адреса из адресного реестра города", "Addresses in the city's register";
    objects_title: "Какой именно объект?", "Which one is it?";
    objects_hint: "Выберите объект на карте или в списке: сообщение уйдёт тому, кто его обслуживает.", "Pick it on the map or in the list: the report goes to whoever looks after it.";
    no_object: "Нет в списке / не знаю", "Not in the list / not sure";
    object_label: "Объект", "Object";
    object_reports: "Сообщения об этом объекте", "Reports about this object";
    object_this_year: "Сообщений в этом году", "Reports this year";
    object_none: "Об этом объекте ещё не сообщали.", "Nothing has been reported about this object yet.";
    object_type_lamp_post: "Опора освещения", "Lamp post";
    object_type_bench: "Скамейка", "Bench";
    object_type_bin: "Урна", "Litter bin";
    object_type_bus_stop: "Остановка", "Bus stop";
    object_type_playground: "Детская площадка", "Playground";
    object_type_other: "Объект городского хозяйства", "City object";
    object_owner: "Обслуживает", "Looked after by";
    search_title: "Поиск сообщений", "Search reports";
    search_label: "Слова, адрес или номер", "Words, an address or a number";
    search_staff_hint: "Сотрудники ищут также по email заявителя.", "Staff also search by a reporter's email address.";
    search_button: "Найти", "Search";
    search_none: "Ничего не найдено.", "Nothing found.";
    search_found: "Найдено", "Found";
    nav_search: "Поиск", "Search";
    address_col: "Адрес", "Address";
    step_what: "Что случилось", "What is wrong";
    search_category: "Найти категорию", "Find a category";
    search_hint: "Начните вводить: «яма», «освещение»…", "Start typing: “pothole”, “lighting”…";
    description: "Описание", "Description";
    photos: "Фотографии", "Photos";
    photos_hint: "JPEG, PNG или WebP; место съёмки и прочие метаданные удаляются.", "JPEG, PNG or WebP; location and other metadata are removed.";
    step_who: "Кто сообщает", "Who reports";
    email: "Эл. почта", "Email";
    name: "Имя (необязательно)", "Name (optional)";
    show_name: "Показывать моё имя в сообщении", "Show my name on the report";
    anonymous_hint: "Без входа мы пришлём на почту ссылку для подтверждения сообщения.", "Without logging in, we email you a link to confirm the report.";
    filing_as: "Вы сообщаете как", "You report as";
    duplicates_title: "Рядом уже сообщили", "Already reported nearby";
    duplicates_hint: "Если это та же проблема, присоединитесь — так её решат быстрее.", "If it is the same problem, join it — that gets it fixed sooner.";
    me_too: "У меня то же", "Me too";
    joined: "Вы присоединились", "You joined";
    submit_report: "Отправить", "Send";
    follow: "Следить за обращением", "Follow this report";
    follow_hint: "Письмо о каждом изменении; поддержкой это не считается.", "An email at every change; this does not count as support.";
    following: "Вы следите за этим обращением.", "You follow this report.";
    unfollow: "Больше не следить", "Stop following";
    follow_held: "Почти готово: подтвердите подписку по ссылке из письма.", "Almost done: confirm with the link in the email.";
    photo_checked: "Фото проверено", "Photo checked";
    held_title: "Ответ ждёт вашего решения", "An answer waits for your decision";
    held_hint: "Фото этого ответа не прошли проверку, а в этой категории такие ответы публикуются только после решения руководителя.", "This answer's photos did not pass the check, and in this category such answers go out only once a supervisor decides.";
    held_approve: "Опубликовать ответ с отметкой о проверке", "Publish the answer with its check";
    held_reject: "Отклонить: вернуть исполнителю", "Reject: back to the crew";
    flagged_answers: "Ответы с сомнительными фото", "Answers with doubtful photos";
    flagged_answers_hint: "Сомнительные фото: снятые раньше, чем подано сообщение, далеко от места, или копии прежних фото. Число таких ответов — из всех ответов с фото, за всё время.", "Doubtful photos: taken before the report was filed, far from the place, or copies of earlier photos. The number of such answers out of all answers with photos, over all time.";
    photo_flagged: "Фото не прошло проверку", "This photo did not pass the check";
    updates_title: "Добавить новость", "Add an update";
    updates_hint: "Что изменилось с тех пор, как вы сообщили? Новость увидят исполнитель и все, кто следит за обращением.", "What has changed since? The department and everyone following the report will see it.";
    updates_moderated_hint: "В этой категории новости публикуются после проверки модератором.", "In this category updates are published once a moderator has seen them.";
    updates_who: "Добавлять новости могут заявитель и те, кто следит за обращением.", "The reporter and the report's followers can add updates.";
    update_text: "Новость", "Update";
    add_update: "Добавить", "Add";
    update_held: "Почти готово: подтвердите новость по ссылке из письма.", "Almost done: confirm your update with the link in the email.";
    update_waiting: "ждёт модератора", "awaiting a moderator";
    update_hidden: "скрыта", "hidden";
    publish: "Опубликовать", "Publish";
    hide: "Скрыть", "Hide";
    hide_reason: "Причина", "Reason";
    rating_title: "Оцените ответ", "Rate the answer";
    rating_hint: "1 — плохо, 5 — отлично; по желанию", "1 poor, 5 excellent; optional";
    rating_comment: "Комментарий к оценке", "Comment on your rating";
    rating_average: "Оценка ответов", "Answers rated";
    ratings_count: "оценок", "ratings";
    canned_answer: "Шаблон ответа", "Canned answer";
    canned_title: "Шаблоны ответов", "Canned answers";
    canned_hint: "Готовые тексты для ответа, отклонения и приостановки; {number}, {address} и {deadline} заменяются данными обращения.", "Ready texts for answers, rejections and pauses; {number}, {address} and {deadline} become the report's.";
    canned_for: "Для действий", "For";
    canned_every: "Все подразделения", "Every department";
    canned_body: "Текст", "Text";
    canned_name: "Название", "Title";
    canned_add: "Добавить шаблон", "Add a canned answer";
    save: "Сохранить", "Save";
    delete: "Удалить", "Delete";
    nav_canned: "Шаблоны", "Canned answers";
    bulk_title: "С выбранными", "With the selected";
    bulk_select: "Выбрать", "Select";
    bulk_select_all: "Выбрать все", "Select all";
    bulk_apply: "Применить", "Apply";
    bulk_moved: "Выполнено", "Done";
    bulk_refused: "Не выполнено", "Not done";
    photo_hidden: "скрыта модератором", "hidden by a moderator";
    name_shown: "Ваше имя показано на этом обращении.", "Your name is shown on this report.";
    hide_my_name: "Скрыть моё имя", "Hide my name";
    moderate_title: "Редактировать публикацию", "Edit what is published";
    moderate_hint: "Жители видят исправленный текст; исходный сохраняется и виден сотрудникам. Заявитель получит письмо с причиной.", "The public sees the edited version; the original is kept for staff. The reporter is emailed the reason.";
    hide_photos: "Скрыть фотографии", "Hide photos";
    hide_reporter_name: "Скрыть имя заявителя", "Hide the reporter's name";
    edits_title: "Правки модераторов", "Moderators' edits";
    as_filed: "было", "was";
    delete_account_title: "Удалить учётную запись", "Delete my account";
    delete_account_hint: "Ваши имя, адрес почты и телефон будут удалены. Ваши обращения останутся в городе как записи, без них. Отменить это нельзя.", "Your name, email and phone will be deleted. Your reports stay with the city as records, without them. This cannot be undone.";
    delete_account: "Удалить навсегда", "Delete for good";
    edit_description: "Описание изменено", "Description edited";
    edit_address: "Адрес изменён", "Address edited";
    edit_photo: "Фотография скрыта", "Photo hidden";
    edit_reporter_name: "Имя заявителя скрыто", "Reporter's name hidden";
    open_data_title: "Открытые данные", "Open data";
    open_data_hint: "Все опубликованные обращения — без личных данных: без имён, адресов почты, телефонов и текстов жителей. Лицензия: CC BY 4.0.", "Every published report, with no personal data: no names, emails, phones or residents' words. Licence: CC BY 4.0.";
    open_data_daily: "Ежедневная выгрузка (всё до начала текущих суток)", "The daily dump (everything up to the start of today)";
    open_data_export: "Выгрузка за период", "An export of a period";
    open_data_from: "Поданные с", "Filed from";
    open_data_to: "по", "to";
    open_data_dictionary: "Словарь данных", "Data dictionary";
    open_data_meaning: "Что значит", "Meaning";
    nav_open_data: "Открытые данные", "Open data";
    nav_alerts: "Подписки", "Alerts";
    alerts_title: "Уведомления о новых обращениях", "Alerts of new reports";
    alerts_hint: "Мы напишем, когда в выбранном месте опубликуют новое обращение. Подписка начнётся, когда вы подтвердите её по ссылке из письма; в каждом письме есть ссылка, чтобы отписаться.", "We email you when a new report is published in the place you choose. The alert starts once you confirm it through the link in our email; every email has a link to stop it.";
    alerts_district: "В районе", "In a district";
    alerts_around: "Рядом с точкой", "Around a point";
    alerts_around_hint: "Координаты подставляются со страницы сообщения («Уведомлять о новых обращениях рядом»); их можно ввести и вручную.", "The coordinates come from a report's page ('Alerts of new reports near here'); you may also type them.";
    latitude: "Широта", "Latitude";
    longitude: "Долгота", "Longitude";
    radius_m: "Радиус, м", "Radius, m";
    alerts_categories: "Категории (если ничего не отмечено — все)", "Categories (none ticked: all)";
    alerts_frequency: "Как часто писать", "How often";
    alerts_instant: "Письмо о каждом обращении сразу", "An email for each report, at once";
    alerts_daily: "Одно письмо в день", "One email a day";
    alerts_subscribe: "Подписаться", "Subscribe";
    alerts_held: "Почти готово: подтвердите подписку по ссылке из письма.", "Almost done: confirm the alert through the link in the email.";
    alerts_near_here: "Уведомлять о новых обращениях рядом", "Alerts of new reports near here";
    feeds_title: "Ленты Atom", "Atom feeds";
    feeds_hint: "Для программ чтения лент: новые и изменённые обращения, последние изменения сверху.", "For feed readers: new and updated reports, the latest changes first.";
    feed_city: "Весь город", "The whole city";
    feed_all: "Новые и изменённые обращения", "New and updated reports";
    feed_report: "Лента этого обращения", "This report's feed";
    feed_near: "Лента обращений рядом", "Feed of reports near here";
    support_held: "Почти готово: подтвердите «у меня то же» по ссылке из письма.", "Almost done: confirm your “me too” with the link in the email.";
    held: "Почти готово: подтвердите сообщение по ссылке из письма.", "Almost done: confirm the report with the link in the email.";
    report: "Сообщение", "Report";
    filed: "Подано", "Filed";
    department: "Ответственный", "Responsible";
    area: "Район", "District";
    supporters: "Поддержали", "Supported by";
    deadline: "Срок", "Deadline";
    stage: "Этап", "Stage";
    working_days_used: "Рабочих дней прошло", "Working days used";
    working_days_left: "Рабочих дней осталось", "Working days left";
    days_used: "Дней прошло", "Days used";
    days_left: "Дней осталось", "Days left";
    overdue: "Срок нарушен", "Overdue";
    paused_now: "Приостановлено: срок не идёт", "Paused: the clock is stopped";
    paused_until: "Приостановлено до", "Paused until";
    days_left_after_pause: "Рабочих дней останется после возобновления", "Working days left when work resumes";
    pauses: "Приостановки", "Pauses";
    pause_reason: "Причина", "Reason";
    resume_on: "Возобновление", "Resumes on";
    paused_on: "Приостановлено", "Paused on";
    until_now: "до сих пор", "ongoing";
    history: "История", "History";
    internal: "внутреннее", "internal";
    answers_title: "Подробности", "Details";
    the_answer: "Ответ города", "The city's answer";
    check_title: "Проблема решена?", "Is it fixed?";
    check_until: "Ответить можно до", "You can answer until";
    bo_title: "Система подразделения", "The department's system";
    bo_system: "Куда передано", "Handed to";
    bo_external_id: "Номер там", "Its number there";
    bo_state: "Передача", "Handover";
    bo_when: "Когда", "When";
    bo_status: "Что сообщила система", "What the system said";
    bo_outcome: "Что из этого вышло", "What came of it";
    bo_queued: "ждёт отправки", "waiting to be sent";
    bo_sent: "передано", "handed over";
    bo_withdrawn: "отозвано", "withdrawn";
    bo_applied: "сделан ход", "the move was made";
    bo_refused: "отклонено правилами", "refused by the rules";
    bo_ignored: "без хода", "no move";
    office_category: "Категория", "Category";
    office_address: "Адрес", "Address";
    office_status: "Статус", "Status";
    office_answer_due: "Срок ответа", "Answer due";
    office_answer: "Ответить: проблема решена", "Answer: the problem is dealt with";
    office_answer_text: "Что сделано (это увидит житель)", "What was done (the resident will read it)";
    office_answer_button: "Отправить ответ", "Send the answer";
    office_pause: "Приостановить работу", "Pause the work";
    office_resume_on: "Когда работа возобновится", "When work resumes";
    office_pause_button: "Приостановить", "Pause";
    office_return: "Вернуть: обращение не к нам", "Return: not ours to fix";
    office_return_text: "Почему и кому его передать", "Why, and who should get it";
    office_return_button: "Вернуть", "Return";
    office_not_live: "Обращение больше не у вашего подразделения: по этой ссылке с ним ничего сделать нельзя.", "The report is no longer in your department's hands: this link can do nothing with it now.";
    office_public_page: "Открыть публичную страницу обращения", "Open the report's public page";
    confirm: "Да, решена", "Yes, it is fixed";
    refute: "Нет, не решена", "No, it is not fixed";
    refute_reason: "Что не так", "What is wrong";
    followers_said: "Поддержавшие ответили", "Supporters answered";
    fixed: "решена", "fixed";
    not_fixed: "не решена", "not fixed";
    ledger: "Реестр решений", "Resolution ledger";
    ledger_proof: "Доказательство включения", "Inclusion proof";
    actions: "Действия", "Actions";
    note: "Комментарий", "Note";
    internal_note: "Внутренняя заметка", "Internal note";
    add_note: "Добавить заметку", "Add note";
    reason: "Причина", "Reason";
    answer_text: "Ответ жителю", "Answer to the resident";
    photo_required: "Фото выполненной работы", "Photo of the work done";
    to_department: "Подразделение", "Department";
    original_number: "Номер исходного сообщения", "Number of the original report";
    act_accept: "Принять в работу", "Accept";
    act_reject: "Отклонить", "Reject";
    act_mark_duplicate: "Отметить как повтор", "Mark as duplicate";
    act_assign: "Передать", "Reassign";
    act_take: "Взять в работу", "Take";
    act_pause: "Приостановить", "Pause";
    act_resume: "Возобновить работу", "Resume";
    act_answer: "Ответить", "Answer";
    act_return: "Вернуть: не наше", "Return as misrouted";
    act_close: "Закрыть", "Close";
    act_escalate: "Эскалировать", "Escalate";
    pr_waiting_for_resident: "ждём ответа жителя", "waiting for the resident";
    pr_seasonal_work: "сезонные работы", "seasonal work";
    pr_third_party: "работы другой организации", "work by a third party";
    pr_procurement: "закупка", "procurement";
    my_title: "Мои сообщения", "My reports";
    my_empty: "Вы ещё ничего не сообщили.", "You have not reported anything yet.";
    number: "Номер", "Number";
    settings_title: "Настройки", "Settings";
    mail_language: "Язык писем и страниц", "Language of emails and pages";
    email_notifications: "Присылать письма об изменениях моих сообщений", "Email me when my reports change";
    saved: "Сохранено", "Saved";
    password_title: "Сменить пароль", "Change password";
    current_password: "Текущий пароль", "Current password";
    new_password: "Новый пароль", "New password";
    password_hint: "От 10 до 128 символов.", "10 to 128 characters.";
    login_title: "Вход", "Log in";
    password: "Пароль", "Password";
    totp: "Код из приложения", "Authenticator code";
    totp_hint: "Сотрудникам: шесть цифр из приложения-аутентификатора.", "Staff: the six digits from your authenticator app.";
    forgot: "Забыли пароль?", "Forgot your password?";
    no_account: "Нет учётной записи?", "No account?";
    register_title: "Регистрация", "Register";
    registered: "Мы отправили письмо со ссылкой для подтверждения адреса.", "We sent you an email with a link to confirm your address.";
    reset_title: "Восстановление пароля", "Reset your password";
    reset_sent: "Если такой адрес зарегистрирован, мы отправили на него ссылку.", "If the address is registered, we sent it a link.";
    send_link: "Прислать ссылку", "Send the link";
    enrol_title: "Второй фактор", "Second factor";
    enrol_hint: "Добавьте этот ключ в приложение-аутентификатор и введите код из него.", "Add this key to your authenticator app and enter its code.";
    queue_title: "Очередь подразделения", "Department queue";
    queue_hint: "Открытые сообщения, ближайший срок — сверху.", "Open reports, nearest deadline first.";
    queue_empty: "Открытых сообщений нет.", "No open reports.";
    risk: "Риск", "Risk";
    risk_ok: "в срок", "on track";
    risk_at_risk: "под угрозой", "at risk";
    risk_breached: "просрочено", "breached";
    dashboard_title: "Соблюдение сроков", "Deadlines";
    any_department: "Все подразделения", "All departments";
    any_district: "Все районы", "All districts";
    district: "Район", "District";
    at_risk_and_breached: "Под угрозой и просроченные", "At risk and breached";
    by_department: "По подразделениям", "By department";
    by_category: "По категориям", "By category";
    trend_title: "Предупреждения и нарушения по дням", "Warnings and breaches per day";
    export_csv: "Выгрузить CSV", "Export CSV";
    escalated_title: "Эскалированные и переоткрытые", "Escalated and reopened";
    level: "Уровень эскалации", "Escalation level";
    nothing_here: "Нет таких сообщений.", "No such reports.";
    stats_title: "Как отвечает город", "How the city answers";
    stats_hint: "Сообщения за последние 365 дней. «В срок» — доля ответов, данных в срок, среди отвеченных и просроченных; просроченные без ответа считаются несвоевременными.", "Reports filed in the last 365 days. “On time” is the share answered on time among the answered and the overdue; overdue reports without an answer count as late.";
    total: "Всего", "Total";
    reports_count: "Сообщений", "Reports";
    on_time_title: "Ответы в срок", "Answers on time";
    on_time_hint: "Все сообщения в выбранных подразделении, категории и районе. Просроченные без ответа считаются несвоевременными; * — слишком мало сообщений для выводов.", "Every report in the chosen department, category and district. Overdue reports without an answer count as late; * means too few reports to tell.";
    answered: "С ответом", "Answered";
    on_time: "В срок", "On time";
    overdue_open: "Просрочено, без ответа", "Overdue, unanswered";
    small_sample: "мало данных: меньше 20 обращений с известным итогом", "few reports: under 20 with a known outcome";
    median_answer: "Медиана до ответа, ч", "Median hours to answer";
    disputed: "Оспорено", "Disputed";
    ledger_verify: "Проверить реестр решений", "Verify the resolution ledger";
    ledger_export: "Выгрузить реестр", "Export the ledger";
    ledger_checkpoints: "Подписанные контрольные точки", "Signed checkpoints";
    error_title: "Не получилось", "Something is wrong";
    not_found_title: "Такой страницы нет", "There is no such page";
    server_error_title: "Что-то пошло не так", "Something went wrong";
    to_map: "На карту", "To the map";
    rejection_title: "Почему отклонено", "Why it was rejected";
    choose: "— выберите —", "— choose —";
    open_report: "Открыть сообщение", "Open the report";
    new_password_label: "Новый пароль (от 10 символов)", "New password (10 characters or more)";
    what_is_wrong_required: "Что не так (обязательно, если не решена)", "What is wrong (required when not fixed)";
    photo: "Фото", "Photo";
    send: "Отправить", "Send";
    login_needed: "Войдите, чтобы открыть эту страницу.", "Log in to open this page.";
    st_moderation: "на модерации", "in moderation";
    st_assigned: "назначено", "assigned";
    st_in_progress: "в работе", "in progress";
    st_paused: "приостановлено", "paused";
    st_resolved: "решено, ждёт проверки", "answered, awaiting check";
    st_confirmed: "решение подтверждено", "fix confirmed";
    st_reopened: "переоткрыто", "reopened";
    st_returned: "возвращено", "returned";
    st_rejected: "отклонено", "rejected";
    st_duplicate: "повтор", "duplicate";
    st_closed: "закрыто", "closed";
    stage_moderation: "модерация", "moderation";
    stage_answer: "ответ", "answer";
    stage_fix: "устранение", "fix";
    stage_resident_check: "проверка жителем", "resident check";
}

pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::Ru => &RU,
        Locale::En => &EN,
    }
}

impl Texts {
    /// A status's name.
    pub fn status(&self, code: &str) -> &'static str {
        match code {
            "moderation" => self.st_moderation,
            "assigned" => self.st_assigned,
            "in_progress" => self.st_in_progress,
            "paused" => self.st_paused,
            "resolved" => self.st_resolved,
            "confirmed" => self.st_confirmed,
            "reopened" => self.st_reopened,
            "returned" => self.st_returned,
            "rejected" => self.st_rejected,
            "duplicate" => self.st_duplicate,
            "closed" => self.st_closed,
            _ => "—",
        }
    }

    /// The name of a group of statuses shown in one colour
    /// (`tone` in the pages' frame, html.rs).
    pub fn tone(&self, tone: &str) -> &'static str {
        match tone {
            "new" => self.tone_new,
            "work" => self.tone_work,
            "paused" => self.tone_paused,
            "answered" => self.tone_answered,
            "done" => self.tone_done,
            _ => self.tone_off,
        }
    }

    /// A deadline stage's name.
    pub fn stage(&self, code: &str) -> &'static str {
        match code {
            "moderation" => self.stage_moderation,
            "answer" => self.stage_answer,
            "fix" => self.stage_fix,
            "resident_check" => self.stage_resident_check,
            _ => "—",
        }
    }

    /// A pause reason's name.
    /// What a moderator's edit changed.
    pub fn edited_field(&self, field: &str) -> &'static str {
        match field {
            "description" => self.edit_description,
            "address" => self.edit_address,
            "photo" => self.edit_photo,
            "reporter_name" => self.edit_reporter_name,
            _ => "—",
        }
    }

    /// A handover's state in words.
    pub fn bo_state_words(&self, state: &str) -> &'static str {
        match state {
            "queued" => self.bo_queued,
            "withdrawn" => self.bo_withdrawn,
            _ => self.bo_sent,
        }
    }

    /// What came of a back office's update, in words.
    pub fn bo_outcome_words(&self, outcome: &str) -> &'static str {
        match outcome {
            "applied" => self.bo_applied,
            "refused" => self.bo_refused,
            _ => self.bo_ignored,
        }
    }

    pub fn pause_reason(&self, code: &str) -> &'static str {
        match code {
            "waiting_for_resident" => self.pr_waiting_for_resident,
            "seasonal_work" => self.pr_seasonal_work,
            "third_party" => self.pr_third_party,
            "procurement" => self.pr_procurement,
            _ => "—",
        }
    }

    /// A workflow action's button.
    pub fn action(&self, code: &str) -> &'static str {
        match code {
            "accept" => self.act_accept,
            "reject" => self.act_reject,
            "mark_duplicate" => self.act_mark_duplicate,
            "assign" => self.act_assign,
            "take" => self.act_take,
            "pause" => self.act_pause,
            "resume" => self.act_resume,
            "answer" => self.act_answer,
            "return" => self.act_return,
            "confirm" => self.confirm,
            "refute" => self.refute,
            "close" => self.act_close,
            "escalate" => self.act_escalate,
            _ => "—",
        }
    }

    /// A risk's name.
    pub fn risk(&self, code: &str) -> &'static str {
        match code {
            "at_risk" => self.risk_at_risk,
            "breached" => self.risk_breached,
            _ => self.risk_ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_stage_and_reason_has_a_name_in_both_languages() {
        for t in [&RU, &EN] {
            for s in crate::reports::ReportStatus::ALL {
                assert_ne!(t.status(s.as_str()), "—", "{}", s.as_str());
            }
            for a in crate::workflow::Action::ALL {
                if a != crate::workflow::Action::AutoConfirm {
                    assert_ne!(t.action(a.as_str()), "—", "{a}");
                }
            }
            for r in crate::workflow::PauseReason::ALL {
                assert_ne!(t.pause_reason(r.as_str()), "—");
            }
            for s in ["moderation", "answer", "fix", "resident_check"] {
                assert_ne!(t.stage(s), "—");
            }
        }
    }
}
