"""The interface's own words in both languages (the bank carries its own)."""

from __future__ import annotations

from app.bank.models import Lang

UI: dict[str, dict[Lang, str]] = {
    "app_name": {"zh": "Transformer 面试题库", "en": "Transformer Quiz"},
    "tagline": {
        "zh": "把 Transformer 讲清楚：间隔重复 + 可运行的 PyTorch 实验",
        "en": "Explain Transformers with confidence: spaced repetition plus live PyTorch experiments",
    },
    "home": {"zh": "首页", "en": "Home"},
    "review": {"zh": "复习", "en": "Review"},
    "browse": {"zh": "题目", "en": "Questions"},
    "demos": {"zh": "实验", "en": "Demos"},
    "start_review": {"zh": "开始复习", "en": "Start review"},
    "due": {"zh": "待复习", "en": "due"},
    "new": {"zh": "新题", "en": "new"},
    "seen": {"zh": "已学", "en": "seen"},
    "questions_n": {"zh": "题", "en": "questions"},
    "topics": {"zh": "主题", "en": "Topics"},
    "soul20": {"zh": "灵魂 20 问", "en": "Soul 20 questions"},
    "search": {"zh": "搜索题目与答案", "en": "Search prompts and answers"},
    "all_topics": {"zh": "全部主题", "en": "All topics"},
    "any_difficulty": {"zh": "任意难度", "en": "Any difficulty"},
    "difficulty": {"zh": "难度", "en": "Difficulty"},
    "d1": {"zh": "基础", "en": "basic"},
    "d2": {"zh": "进阶", "en": "intermediate"},
    "d3": {"zh": "深入", "en": "advanced"},
    "filter": {"zh": "筛选", "en": "Filter"},
    "reveal": {"zh": "显示答案", "en": "Show answer"},
    "reveal_hint": {"zh": "空格键显示答案，1-4 评分", "en": "Space shows the answer, 1-4 grades"},
    "answer": {"zh": "简答", "en": "Short answer"},
    "explanation": {"zh": "详解", "en": "Explanation"},
    "key_points": {"zh": "要点（自评对照）", "en": "Key points (grade yourself against these)"},
    "grade_prompt": {"zh": "你答得怎么样？", "en": "How well did you answer?"},
    "again": {"zh": "重来", "en": "Again"},
    "hard": {"zh": "困难", "en": "Hard"},
    "good": {"zh": "良好", "en": "Good"},
    "easy": {"zh": "简单", "en": "Easy"},
    "done_title": {"zh": "今天的复习完成了", "en": "All caught up"},
    "done_body": {
        "zh": "没有到期的卡片，今天的新题也学完了。可以浏览题目或运行实验。",
        "en": "Nothing is due and today's new cards are done. Browse the questions or run a demo.",
    },
    "show_me": {"zh": "运行实验", "en": "Show me"},
    "seed": {"zh": "随机种子", "en": "Seed"},
    "running": {"zh": "运行中…", "en": "Running…"},
    "conclusion": {"zh": "结论", "en": "Conclusion"},
    "choices": {"zh": "选择题自测", "en": "Multiple-choice check"},
    "check": {"zh": "提交", "en": "Check"},
    "correct": {"zh": "回答正确", "en": "Correct"},
    "incorrect": {"zh": "回答错误", "en": "Not quite"},
    "pick_all": {"zh": "（多选）", "en": "(select all that apply)"},
    "source": {"zh": "来源", "en": "Sources"},
    "card_state": {"zh": "卡片状态", "en": "Card"},
    "next_due": {"zh": "下次复习", "en": "next due"},
    "state_new": {"zh": "新卡片", "en": "new"},
    "state_learning": {"zh": "学习中", "en": "learning"},
    "state_review": {"zh": "复习中", "en": "review"},
    "state_relearning": {"zh": "重学中", "en": "relearning"},
    "graded": {"zh": "已记录评分", "en": "Grade recorded"},
    "new_card": {"zh": "新卡片", "en": "New card"},
    "params": {"zh": "参数", "en": "Parameters"},
    "no_questions": {"zh": "没有符合条件的题目。", "en": "No questions match."},
    "demo_for": {"zh": "相关题目", "en": "Questions it serves"},
    "elapsed": {"zh": "耗时", "en": "took"},
    "cached": {"zh": "缓存", "en": "cached"},
    "numbers": {"zh": "数值", "en": "Numbers"},
    "not_found": {"zh": "没有找到", "en": "Not found"},
}


def translator(lang: Lang):
    def t(key: str) -> str:
        entry = UI.get(key)
        return entry[lang] if entry else key

    return t
