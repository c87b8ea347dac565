"""Interface words for study science (settings, fitting, readiness, cram, card view), merged
into app.web.i18n.UI."""

from __future__ import annotations

from app.bank.models import Lang

STUDY_UI: dict[str, dict[Lang, str]] = {
    "settings": {"zh": "设置", "en": "Settings"},
    "session_control": {"zh": "每天的学习", "en": "Your study day"},
    "timezone": {"zh": "时区", "en": "Time zone"},
    "timezone_help": {
        "zh": "IANA 时区名，例如 Asia/Shanghai。每天从你所在时区的这个钟点开始算。",
        "en": "An IANA name such as Asia/Shanghai: your day is counted from your own clock.",
    },
    "day_now": {"zh": "当前学习日", "en": "Your study day now"},
    "day_start_hour": {"zh": "新的一天从几点开始", "en": "A new day starts at (hour)"},
    "day_start_help": {
        "zh": "0–23。设为 4 时，凌晨 4 点前的复习仍算前一天（Anki 的默认做法）。",
        "en": "0–23. At 4, a review before 4 a.m. still counts for the day before (as in Anki).",
    },
    "new_per_day": {"zh": "每天新卡片数（0–1000）", "en": "New cards a day (0–1000)"},
    "server_default": {"zh": "使用服务器默认值", "en": "Use the server's default"},
    "desired_retention": {"zh": "目标记忆保持率", "en": "Desired retention"},
    "retention_help": {
        "zh": "FSRS 在你的回忆概率降到这个值时安排复习。越高，忘得越少，但每天复习越多。",
        "en": "FSRS schedules each review for when your recall probability falls to this value. "
        "Higher means less forgetting and more reviews a day.",
    },
    "workload_show": {
        "zh": "估算每种保持率下的工作量",
        "en": "Estimate the workload at each retention",
    },
    "workload_title": {"zh": "每种保持率下的预计工作量", "en": "Expected workload by retention"},
    "workload_note": {
        "zh": "fsrs 用你的参数、你的评分分布和用时模拟一年的复习。★ 为每记住一张卡片花时间最少的保持率。",
        "en": "fsrs simulates a year of reviews with your weights, your grades and your times. "
        "★ marks the retention with the least time per card remembered.",
    },
    "wl_reviews_day": {"zh": "每天复习次数", "en": "Reviews a day"},
    "wl_minutes_day": {"zh": "每天分钟数", "en": "Minutes a day"},
    "wl_cost": {
        "zh": "每记住一张卡片的秒数（一年）",
        "en": "Seconds per card remembered (a year)",
    },
    "wl_optimal": {"zh": "最省时", "en": "least time"},
    "interview": {"zh": "面试日期", "en": "Your interview"},
    "interview_help": {
        "zh": "设定日期后，应用预测每张卡片在那天的回忆概率，并给出每天的计划。",
        "en": "With a date set, the app predicts each card's recall on that day and plans "
        "each day until then.",
    },
    "interview_date": {"zh": "面试日期", "en": "Interview date"},
    "target_recall": {"zh": "面试当天的目标回忆率", "en": "Recall to aim at on the day"},
    "daily_limit": {"zh": "计划每天最多卡片数", "en": "Most cards a day in the plan"},
    "leech_threshold": {"zh": "遗忘多少次算“顽固卡”", "en": "Lapses that make a leech"},
    "autofit_every": {"zh": "每多少次新复习自动重新拟合", "en": "Re-fit after this many reviews"},
    "autofit_help": {"zh": "0 表示不自动拟合。", "en": "0: never by itself."},
    "flash_saved": {"zh": "设置已保存", "en": "Settings saved"},
    "flash_fitted": {"zh": "拟合完成，结果见下方", "en": "Fit finished: see below"},
    "flash_reset": {"zh": "已恢复默认参数", "en": "Back to the default weights"},
    "errors_title": {"zh": "有些值不在允许范围内：", "en": "Some values are out of range:"},
    "fit_title": {"zh": "拟合我的 FSRS 参数", "en": "Fit my FSRS weights"},
    "fit_help": {
        "zh": "用 fsrs 自带的优化器拟合你的复习记录（不含突击复习），"
        "再在之后的复习上比较默认参数和拟合参数的预测误差；只有更准才会采用。",
        "en": "fsrs's own optimizer fits your review log (cram answers left out); then both the "
        "default and the fitted weights predict your later reviews, and yours are used only "
        "if they do better.",
    },
    "fit_run": {"zh": "开始拟合", "en": "Fit my weights"},
    "fit_running": {
        "zh": "拟合在后台计算进程中运行，几千条记录需要一分钟左右。",
        "en": "The fit runs in a compute worker; a few thousand reviews take about a minute.",
    },
    "fit_status_fitted": {
        "zh": "你的参数比默认参数预测得更准，已开始使用。",
        "en": "Your weights predict your later reviews better than the defaults: in use now.",
    },
    "fit_status_kept_defaults": {
        "zh": "拟合参数没有比默认参数更准，继续使用默认参数。",
        "en": "The fitted weights did not beat the defaults, so the defaults stay.",
    },
    "fit_status_too_short": {
        "zh": "复习记录还不够长，暂时无法可靠拟合。",
        "en": "Your log is too short to fit reliably yet.",
    },
    "fit_status_failed": {"zh": "拟合没有完成。", "en": "The fit did not finish."},
    "fit_reviews": {"zh": "复习记录", "en": "Reviews"},
    "fit_usable": {"zh": "可用于拟合（隔天复习）", "en": "usable (a later day)"},
    "fit_needed": {"zh": "还需要", "en": "more needed"},
    "fit_split": {
        "zh": "在此之前的复习用于拟合，之后的用于评估：",
        "en": "Fitted before, scored after",
    },
    "log_loss": {"zh": "对数损失", "en": "Log-loss"},
    "rmse_bins": {"zh": "分箱 RMSE", "en": "RMSE (bins)"},
    "params_in_use": {"zh": "正在使用", "en": "In use"},
    "params_fitted": {"zh": "你的参数", "en": "your fitted weights"},
    "params_default": {"zh": "默认参数", "en": "the default weights"},
    "reset_params": {"zh": "恢复默认参数", "en": "Reset to the defaults"},
    "readiness": {"zh": "面试准备度", "en": "Interview readiness"},
    "readiness_help": {
        "zh": "FSRS 预测你在面试当天能回忆起的题目比例（没学过的卡片按 0 计），以及按计划学习后的预测。",
        "en": "FSRS's prediction of the share of the bank you will recall on the day (cards "
        "never studied count 0), and the same if you follow the plan.",
    },
    "no_interview": {"zh": "还没有设定面试日期。", "en": "No interview date yet."},
    "set_interview": {"zh": "设定日期", "en": "Set a date"},
    "days_left": {"zh": "剩余学习日", "en": "study days left"},
    "expected_share": {"zh": "当天预计回忆率", "en": "expected recall on the day"},
    "if_followed": {"zh": "按计划学习后", "en": "if you follow the plan"},
    "below_target": {"zh": "低于目标的卡片", "en": "cards below target"},
    "per_topic": {"zh": "各主题", "en": "By topic"},
    "plan": {"zh": "每日计划", "en": "Day-by-day plan"},
    "plan_help": {
        "zh": "计划只改变顺序和每天的量，每次复习仍是正常的 FSRS 复习。计划每次打开时按你的实际进度重新计算。",
        "en": "The plan changes only the order and the daily amount; every review is an ordinary "
        "FSRS review. It is worked out again from your real progress each time.",
    },
    "plan_day": {"zh": "日期", "en": "Day"},
    "plan_due": {"zh": "到期", "en": "Due"},
    "plan_new": {"zh": "新卡片", "en": "New"},
    "plan_early": {"zh": "提前复习", "en": "Ahead of time"},
    "plan_total": {"zh": "合计 / 上限", "en": "Total / limit"},
    "today": {"zh": "今天", "en": "today"},
    "plan_status_ok": {
        "zh": "按计划学习，面试当天每张卡片都能达到目标回忆率。",
        "en": "Every card reaches the target on the day if you follow the plan.",
    },
    "plan_status_unfit": {
        "zh": "有 {n} 张卡片放不进计划：提高每天上限，或接受它们当天低于目标。",
        "en": "{n} cards do not fit: raise the daily limit, or expect them below the target.",
    },
    "plan_status_late_new": {
        "zh": "离面试太近，新卡片来不及巩固：今天就全部引入。",
        "en": "Too close to the interview for new cards to settle: they all start today.",
    },
    "plan_status_today": {
        "zh": "面试就在今天，没有可以计划的了。",
        "en": "The interview is today: nothing left to plan.",
    },
    "unfit": {"zh": "放不进计划的卡片", "en": "Cards that do not fit"},
    "cards_title": {"zh": "卡片", "en": "Cards"},
    "card": {"zh": "卡片", "en": "Card"},
    "card_details": {"zh": "卡片详情", "en": "Card details"},
    "leech": {"zh": "顽固卡", "en": "leech"},
    "leeches": {"zh": "只看顽固卡", "en": "Leeches only"},
    "state": {"zh": "状态", "en": "state"},
    "stability": {"zh": "稳定性（天）", "en": "stability (days)"},
    "stability_help": {
        "zh": "稳定性：回忆概率降到 90% 所需的天数；难度：1（容易）到 10（困难）。",
        "en": "Stability: days until recall falls to 90%; difficulty: 1 (easy) to 10 (hard).",
    },
    "recall_on_day": {"zh": "面试当天回忆率", "en": "recall on the day"},
    "lapses": {"zh": "遗忘次数", "en": "lapses"},
    "reps": {"zh": "复习次数", "en": "reviews"},
    "history": {"zh": "复习记录", "en": "Review history"},
    "no_history": {"zh": "还没有复习过。", "en": "Not reviewed yet."},
    "reviewed_at": {"zh": "时间", "en": "When"},
    "rating": {"zh": "评分", "en": "Grade"},
    "due_after": {"zh": "之后到期", "en": "Due after"},
    "duration": {"zh": "用时", "en": "Time"},
    "open_question": {"zh": "打开题目", "en": "Open the question"},
    "cram": {"zh": "突击复习", "en": "Cram"},
    "cram_help": {
        "zh": "任选一组卡片集中过一遍，不改变任何复习计划；答题会记录下来（标为突击），但不用于参数拟合。",
        "en": "Go over any set of cards without moving any schedule. Your answers are kept "
        "(marked cram) and never used for fitting.",
    },
    "cram_mode": {"zh": "选哪些", "en": "Which cards"},
    "mode_all": {"zh": "符合筛选的全部（随机顺序）", "en": "All that match (shuffled)"},
    "mode_weakest": {"zh": "当前回忆率最低的", "en": "The weakest (lowest recall now)"},
    "mode_due_soon": {"zh": "即将到期的", "en": "Due soon"},
    "mode_leeches": {"zh": "顽固卡", "en": "Leeches"},
    "cram_days": {"zh": "即将到期：几天内", "en": "Due soon: within days"},
    "cram_no_schedule": {"zh": "突击复习不改变复习计划", "en": "Cram: the schedule does not move"},
    "cram_mark": {"zh": "突击", "en": "cram"},
    "cram_done": {"zh": "突击复习完成", "en": "Cram finished"},
    "cram_again_count": {"zh": "答错", "en": "Again"},
    "cram_again": {"zh": "再来一组", "en": "Another set"},
    "q_counts": {"zh": "今天剩余", "en": "Left today"},
    "q_new": {"zh": "新", "en": "new"},
    "q_learning": {"zh": "学习中", "en": "learning"},
    "q_due": {"zh": "到期", "en": "due"},
    "q_plan": {"zh": "计划", "en": "plan"},
    "learning_back_title": {"zh": "稍后还有卡片", "en": "More cards in a moment"},
    "learning_back": {
        "zh": "{n} 张学习中的卡片将在 {m} 分钟后回来。",
        "en": "{n} learning cards come back in {m} minutes.",
    },
    "check_again": {"zh": "再看一次", "en": "Check again"},
    "more_new": {"zh": "今天再学几张新卡片", "en": "Study more new cards today"},
    "more_new_go": {"zh": "加上", "en": "Add"},
}
