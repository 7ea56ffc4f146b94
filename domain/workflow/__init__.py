"""The closed loop (事项闭环) as a pure state machine: 登记受理 → 研判 → 分流 → 签收/退回 →
处置/反馈 → 核查 → 结案 → 回访, with 挂起/恢复, 延期 and re-dispatch.

Modules: :mod:`~domain.workflow.vocabulary` (steps, actions, facts, tracks, outcomes),
:mod:`~domain.workflow.errors` (the coded error tree), :mod:`~domain.workflow.actors`,
:mod:`~domain.workflow.payloads`, :mod:`~domain.workflow.transitions` (who may do what from
where, as data) and :mod:`~domain.workflow.machine` (``MatterMachine.apply``).

This package's ``__init__`` imports nothing: :mod:`domain.deadlines` names its start and stop
events with the vocabulary here, and the machine in turn uses the deadline rules.
"""
