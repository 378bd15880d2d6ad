//! The one schema both backends share. Written by hand against the portable
//! DDL in `migrations/{sqlite,postgres}`; `tests/schema.rs` loads every table
//! through these definitions on both backends, so drift fails a test.

diesel::table! {
    calendars (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        time_zone -> Text,
        weekly_days_off -> Text,
        work_starts -> Text,
        work_ends -> Text,
    }
}

diesel::table! {
    calendar_days (calendar_id, day) {
        calendar_id -> Text,
        day -> Date,
        kind -> Text,
        note -> Text,
    }
}

diesel::table! {
    sla_policies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        calendar_id -> Text,
        moderation_days -> Integer,
        answer_days -> Integer,
        fix_days -> Nullable<Integer>,
        resident_check_days -> Integer,
        warn_percents -> Text,
        moderation_unit -> Text,
        answer_unit -> Text,
        fix_unit -> Text,
        escalation_percents -> Text,
    }
}

diesel::table! {
    departments (id) {
        id -> Text,
        code -> Text,
        name_ru -> Text,
        name_en -> Text,
        parent_id -> Nullable<Text>,
        email -> Nullable<Text>,
        calendar_id -> Text,
        is_triage -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    category_groups (code) {
        code -> Text,
        name_ru -> Text,
        name_en -> Text,
        sort_order -> Integer,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        code -> Text,
        group_code -> Text,
        name_ru -> Text,
        name_en -> Text,
        description_ru -> Text,
        description_en -> Text,
        attributes -> Text,
        default_department_id -> Nullable<Text>,
        sla_policy_id -> Text,
        duplicate_radius_m -> Double,
        active -> Bool,
        sort_order -> Integer,
        updates_moderated -> Bool,
        object_types -> Text,
        evidence_policy -> Text,
    }
}

diesel::table! {
    service_areas (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        geometry -> Text,
        min_lat -> Double,
        min_lon -> Double,
        max_lat -> Double,
        max_lon -> Double,
        name_en -> Nullable<Text>,
    }
}

diesel::table! {
    service_area_routes (id) {
        id -> Text,
        service_area_id -> Text,
        category_id -> Nullable<Text>,
        department_id -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        role -> Text,
        department_id -> Nullable<Text>,
        locale -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        key_hash -> Text,
        name -> Text,
        kind -> Text,
        user_id -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        scopes -> Text,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        number -> BigInt,
        category_id -> Text,
        lat -> Double,
        lon -> Double,
        address -> Nullable<Text>,
        description -> Text,
        answers -> Text,
        source -> Text,
        support_count -> Integer,
        status -> Text,
        service_area_id -> Nullable<Text>,
        department_id -> Nullable<Text>,
        routing_rule -> Text,
        assignee_id -> Nullable<Text>,
        reporter_id -> Nullable<Text>,
        reporter_name_public -> Bool,
        duplicate_of -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        moderation_due_at -> Nullable<Timestamp>,
        answer_due_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        cycle -> Integer,
        cycle_started_at -> Nullable<Timestamp>,
        moderated_at -> Nullable<Timestamp>,
        responded_at -> Nullable<Timestamp>,
        fix_due_at -> Nullable<Timestamp>,
        check_due_at -> Nullable<Timestamp>,
        escalation_level -> Integer,
        next_sla_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    report_pauses (id) {
        id -> Text,
        report_id -> Text,
        cycle -> Integer,
        from_status -> Text,
        reason -> Text,
        note -> Nullable<Text>,
        resume_on -> Date,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        started_by -> Nullable<Text>,
    }
}

diesel::table! {
    sla_marks (report_id, cycle, stage, mark) {
        report_id -> Text,
        cycle -> Integer,
        stage -> Text,
        mark -> Text,
        due_at -> Timestamp,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    report_events (id) {
        id -> Text,
        report_id -> Text,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        note -> Nullable<Text>,
        public -> Bool,
        created_at -> Timestamp,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        report_id -> Text,
        event_id -> Nullable<Text>,
        position -> Integer,
        content_hash -> Text,
        mime -> Text,
        width -> Integer,
        height -> Integer,
        bytes -> BigInt,
        created_at -> Timestamp,
        hidden_at -> Nullable<Timestamp>,
        hidden_reason -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Text,
        report_id -> Text,
        user_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        unsubscribed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        event_id -> Nullable<Text>,
        recipient -> Text,
        template -> Text,
        locale -> Text,
        payload -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ledger_entries (seq) {
        seq -> BigInt,
        report_id -> Text,
        report_number -> BigInt,
        kind -> Text,
        actor -> Text,
        recorded_at -> Timestamp,
        answer_digest -> Nullable<Text>,
        photo_digests -> Text,
        prev_hash -> Text,
        hash -> Text,
        evidence -> Nullable<Text>,
    }
}

diesel::joinable!(calendar_days -> calendars (calendar_id));
diesel::joinable!(sla_policies -> calendars (calendar_id));
diesel::joinable!(departments -> calendars (calendar_id));
diesel::joinable!(categories -> departments (default_department_id));
diesel::joinable!(categories -> sla_policies (sla_policy_id));
diesel::joinable!(service_area_routes -> service_areas (service_area_id));
diesel::joinable!(service_area_routes -> departments (department_id));
diesel::joinable!(users -> departments (department_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(reports -> categories (category_id));
diesel::joinable!(reports -> service_areas (service_area_id));
diesel::joinable!(reports -> departments (department_id));
diesel::joinable!(report_objects -> reports (report_id));
diesel::joinable!(handovers -> reports (report_id));
diesel::joinable!(report_objects -> city_objects (object_id));
diesel::joinable!(search_terms -> reports (report_id));
diesel::joinable!(city_objects -> departments (department_id));
diesel::joinable!(report_events -> reports (report_id));
diesel::joinable!(report_pauses -> reports (report_id));
diesel::joinable!(sla_marks -> reports (report_id));
diesel::joinable!(report_events -> users (actor_id));
diesel::joinable!(attachments -> reports (report_id));
diesel::joinable!(subscriptions -> reports (report_id));
diesel::joinable!(subscriptions -> users (user_id));
diesel::joinable!(ledger_entries -> reports (report_id));

diesel::table! {
    mail_opt_outs (email, scope) {
        email -> Text,
        scope -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_reminders (report_id, cycle) {
        report_id -> Text,
        cycle -> Integer,
        sent_at -> Timestamp,
    }
}

diesel::joinable!(report_reminders -> reports (report_id));

diesel::table! {
    ledger_checkpoints (size) {
        size -> BigInt,
        head_hash -> Text,
        root_hash -> Text,
        signed_at -> Timestamp,
        public_key -> Text,
        signature -> Text,
    }
}

diesel::table! {
    report_checks (report_id, cycle, user_id) {
        report_id -> Text,
        cycle -> Integer,
        user_id -> Text,
        fixed -> Bool,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(report_checks -> reports (report_id));
diesel::joinable!(report_checks -> users (user_id));

diesel::table! {
    accounts (user_id) {
        user_id -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_enrolled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        disabled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        stage -> Text,
        csrf_key -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> Text,
        purpose -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rate_counters (key, window_start) {
        key -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_role -> Text,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Text>,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    pending_reports (id) {
        id -> Text,
        email -> Text,
        locale -> Text,
        report -> Text,
        photos -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        report_id -> Nullable<Text>,
    }
}

diesel::table! {
    retired_secrets (name, retired_at) {
        name -> Text,
        value -> Text,
        retired_at -> Timestamp,
        accepted_until -> Timestamp,
    }
}

diesel::table! {
    job_leases (job) {
        job -> Text,
        holder -> Text,
        until -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (key_hash) {
        key_hash -> Text,
        request_hash -> Text,
        report_id -> Nullable<Text>,
        status -> Nullable<Integer>,
        response -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pending_supports (id) {
        id -> Text,
        report_id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        locale -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        kind -> Text,
        payload -> Nullable<Text>,
    }
}

diesel::table! {
    report_updates (event_id) {
        event_id -> Text,
        report_id -> Text,
        author_id -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ratings (report_id, cycle, user_id) {
        report_id -> Text,
        cycle -> Integer,
        user_id -> Text,
        department_id -> Nullable<Text>,
        rating -> Integer,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    canned_answers (id) {
        id -> Text,
        department_id -> Nullable<Text>,
        title -> Text,
        body -> Text,
        actions -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    report_edits (id) {
        id -> Text,
        report_id -> Text,
        field -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        reason -> Text,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    area_alerts (id) {
        id -> Text,
        email -> Text,
        locale -> Text,
        area_id -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        radius_m -> Nullable<Double>,
        categories -> Text,
        frequency -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    alert_matches (alert_id, report_id) {
        alert_id -> Text,
        report_id -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(alert_matches -> area_alerts (alert_id));
diesel::joinable!(alert_matches -> reports (report_id));
diesel::joinable!(report_edits -> reports (report_id));
diesel::joinable!(ratings -> reports (report_id));
diesel::joinable!(report_updates -> reports (report_id));
diesel::joinable!(report_updates -> report_events (event_id));
diesel::joinable!(pending_supports -> reports (report_id));
diesel::joinable!(pending_reports -> reports (report_id));
diesel::joinable!(idempotency_keys -> reports (report_id));
diesel::joinable!(accounts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    area_alerts,
    alert_matches,
    report_edits,
    canned_answers,
    ratings,
    report_updates,
    retired_secrets,
    job_leases,
    idempotency_keys,
    pending_reports,
    pending_supports,
    accounts,
    sessions,
    account_tokens,
    rate_counters,
    audit_log,
    calendars,
    calendar_days,
    sla_policies,
    departments,
    category_groups,
    categories,
    service_areas,
    service_area_routes,
    users,
    api_keys,
    counters,
    reports,
    report_events,
    attachments,
    subscriptions,
    outbox,
    ledger_entries,
    report_pauses,
    sla_marks,
    mail_opt_outs,
    secrets,
    report_reminders,
    ledger_checkpoints,
    report_checks,
    addresses,
    city_objects,
    search_terms,
    report_objects,
    search_pending,
    search_docs,
    endpoints,
    handovers,
    deliveries,
    webhooks,
    hook_pending,
    back_office_updates,
    report_media_links,
    ledger_tiles,
    ledger_cosignatures,
    ledger_key_rotations,
    photo_checks,
    answer_prints,
    held_answers,
);

diesel::table! {
    photo_checks (event_id, digest) {
        event_id -> Text,
        digest -> Text,
        report_id -> Text,
        department_id -> Nullable<Text>,
        position -> Integer,
        taken -> Text,
        taken_at -> Nullable<Timestamp>,
        place -> Text,
        distance_m -> Nullable<Double>,
        copy_of -> Nullable<Text>,
        copy_report -> Nullable<BigInt>,
        flagged -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    answer_prints (id) {
        id -> BigInt,
        digest -> Text,
        report_number -> BigInt,
        print -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    held_answers (id) {
        id -> Text,
        report_id -> Text,
        cycle -> Integer,
        actor_id -> Text,
        actor_role -> Text,
        answer -> Nullable<Text>,
        photos -> Text,
        checks -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decision -> Nullable<Text>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    ledger_tiles (level, idx) {
        level -> Integer,
        idx -> BigInt,
        hashes -> Binary,
    }
}

diesel::table! {
    ledger_cosignatures (size, witness) {
        size -> BigInt,
        witness -> Text,
        line -> Text,
        cosigned_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    ledger_key_rotations (old_key) {
        old_key -> Text,
        new_key -> Text,
        handover_size -> BigInt,
        rotated_at -> Timestamp,
        old_signature -> Text,
        new_signature -> Text,
    }
}

diesel::table! {
    addresses (key) {
        key -> Text,
        street -> Text,
        street_en -> Nullable<Text>,
        house -> Text,
        lat -> Double,
        lon -> Double,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    city_objects (id) {
        id -> Text,
        kind -> Text,
        code -> Text,
        name -> Text,
        name_en -> Nullable<Text>,
        lat -> Double,
        lon -> Double,
        properties -> Text,
        department_id -> Nullable<Text>,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    search_terms (term, report_id) {
        term -> Text,
        report_id -> Text,
        weight -> Integer,
    }
}

diesel::table! {
    report_objects (report_id) {
        report_id -> Text,
        object_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    search_pending (report_id) {
        report_id -> Text,
    }
}

diesel::table! {
    search_docs (report_id) {
        report_id -> Text,
        terms -> Text,
    }
}

diesel::table! {
    endpoints (id) {
        id -> Text,
        department_id -> Nullable<Text>,
        category_id -> Nullable<Text>,
        url -> Text,
        api_key -> Text,
        jurisdiction -> Nullable<Text>,
        services -> Text,
        attributes -> Text,
        statuses -> Text,
        pull -> Text,
        withdraw -> Bool,
        pulled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    handovers (report_id) {
        report_id -> Text,
        endpoint_id -> Text,
        external_id -> Nullable<Text>,
        token -> Nullable<Text>,
        state -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        kind -> Text,
        target_id -> Text,
        report_id -> Text,
        dedupe -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        category_id -> Nullable<Text>,
        department_id -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    hook_pending (event_id) {
        event_id -> Text,
        report_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_media_links (report_id, position) {
        report_id -> Text,
        position -> Integer,
        url -> Text,
    }
}

diesel::table! {
    back_office_updates (scope, update_id) {
        scope -> Text,
        update_id -> Text,
        report_id -> Nullable<Text>,
        source -> Text,
        status -> Text,
        notes -> Nullable<Text>,
        outcome -> Text,
        reason -> Nullable<Text>,
        event_id -> Nullable<Text>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    outcome_days (day, department) {
        day -> Date,
        department -> Text,
        reports -> BigInt,
        answered -> BigInt,
        overdue -> BigInt,
        on_time -> BigInt,
        reopened -> BigInt,
        disputed -> BigInt,
        ratings -> BigInt,
        rating_sum -> BigInt,
        answer_minutes -> Text,
    }
}

diesel::table! {
    report_tallies (report_id) {
        report_id -> Text,
        day -> Date,
        department -> Text,
        answered -> Integer,
        overdue -> Integer,
        on_time -> Integer,
        reopened -> Integer,
        disputed -> Integer,
        ratings -> Integer,
        rating_sum -> Integer,
        answer_minutes -> Nullable<Integer>,
    }
}

diesel::table! {
    stats_snapshots (name) {
        name -> Text,
        refreshed_at -> Timestamp,
        body -> Text,
    }
}
