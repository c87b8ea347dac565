"""Interface messages looked up by a computed key (``t("state_" ~ card.state)``), which
``pybabel extract`` cannot see in the code: marked here with ``N_`` so that they stay in
messages.pot and are never dropped as obsolete by ``pybabel update``. Add a key here when you
look one up by a computed name."""

from __future__ import annotations


def N_(key: str) -> str:  # noqa: N802 (the gettext convention for a deferred message)
    return key


COMPUTED_KEYS = [
    # Difficulty labels: t('d' ~ q.difficulty)
    N_("d1"),
    N_("d2"),
    N_("d3"),
    # Grade names: t(g.name), t('rating_' ~ n)
    N_("hard"),
    N_("good"),
    N_("rating_1"),
    N_("rating_2"),
    N_("rating_3"),
    # Card states: t('state_' ~ card.state)
    N_("state_new"),
    N_("state_learning"),
    N_("state_review"),
    N_("state_relearning"),
    N_("state_suspended"),
    # Flash messages: t(flash)
    N_("buried"),
    N_("suspended"),
    N_("unsuspended"),
    N_("flash_saved"),
    N_("flash_fitted"),
    N_("flash_reset"),
    # Home page groups: t('group_' ~ id)
    N_("group_transformer-2017"),
    N_("group_modern-llm"),
    # Drills: t('drill_' ~ best), t('verdict_' ~ v)
    N_("drill_passed"),
    N_("drill_tried"),
    N_("drill_next_hint"),
    N_("verdict_passed"),
    N_("verdict_failed"),
    N_("verdict_error"),
    N_("verdict_timeout"),
    N_("verdict_crashed"),
    N_("verdict_refused"),
    N_("verdict_gave_up"),
    # Error pages: t('error_' ~ status), t('error_' ~ status ~ '_help')
    N_("error_403"),
    N_("error_403_help"),
    N_("error_404"),
    N_("error_404_help"),
    N_("error_405"),
    N_("error_405_help"),
    N_("error_413"),
    N_("error_413_help"),
    N_("error_422"),
    N_("error_422_help"),
    N_("error_429"),
    N_("error_429_help"),
    N_("error_500"),
    N_("error_500_help"),
    N_("error_503"),
    N_("error_503_help"),
    N_("error_other"),
    N_("error_other_help"),
    # Weekdays of the stats heatmap: t(f'wd_{weekday}')
    N_("wd_0"),
    N_("wd_1"),
    N_("wd_2"),
    N_("wd_3"),
    N_("wd_4"),
    N_("wd_5"),
    N_("wd_6"),
    # Study settings: fitting status and cram modes
    N_("fit_status_fitted"),
    N_("fit_status_kept_defaults"),
    N_("fit_status_too_short"),
    N_("fit_status_failed"),
    N_("mode_all"),
    N_("mode_weakest"),
    N_("mode_due_soon"),
    N_("mode_leeches"),
    # Carried over from the old dictionary, kept for pages that may use them
    N_("home"),
    N_("card_state"),
    N_("new_card"),
    N_("numbers"),
    N_("not_found"),
    N_("grade_as"),
    N_("quiz_review_missed"),
    N_("heat_reviews"),
    N_("footer_api"),
    N_("install_offline"),
    # Validation messages on error pages and demo forms (app/web/errors.py): t(key) by type
    N_("v_missing"),
    N_("v_int"),
    N_("v_number"),
    N_("v_bool"),
    N_("v_ge"),
    N_("v_gt"),
    N_("v_le"),
    N_("v_lt"),
    N_("v_too_long"),
    N_("v_too_many"),
    N_("v_too_short"),
    N_("v_pattern"),
    N_("v_choice"),
    N_("v_datetime"),
    N_("v_invalid"),
    N_("v_allowed"),
    # Booleans printed by a page (app/web/pages.py: the templates' finalize)
    N_("bool_true"),
    N_("bool_false"),
    # The account forms' reasons (app/accounts.py AccountError, shown through t(error))
    N_("username: 3-32 letters, digits, '_', '.' or '-'"),
    N_("password: at least 8 characters"),
    N_("password: at most 256 characters"),
    N_("password: not only spaces"),
    N_("password: that is one of the most common passwords; choose another"),
    N_("password: too predictable (repeated or sequential characters)"),
    N_("password: must not contain your username or this site's name"),
    N_("the server is busy; try again"),
    N_("that username is taken"),
    N_("an invite code is required"),
    N_("that invite code is not valid (or has been used up)"),
    N_("wrong username or password"),
    N_("no such member"),
    # The stats page's import/reset outcome (app/web/study.py: t(f"msg_{kind}"))
    N_("msg_imported"),
    N_("msg_reset"),
    # Moved from the old dictionary by app/web/i18n_sync.py
    N_("plan_status_ok"),
    N_("plan_status_unfit"),
    N_("plan_status_late_new"),
    N_("plan_status_today"),
]
