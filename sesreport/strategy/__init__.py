"""Strategy inputs: a policy document that argues topic by topic, from configuration to computed
monitoring. `config` reads and checks `config/strategies/<ID>.yaml`; `monitoring` computes
baselines and statuses and exports them. The document kind itself is `documents/strategy.py`."""
