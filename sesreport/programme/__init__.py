"""The programme implementation report's own machinery: the programme file and the register of
activities (config), and the declarative rules that count each indicator's outcome (rules)."""
