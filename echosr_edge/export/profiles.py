"""Bundle profiles: which of the exported models run together.

"default" is the study's pipeline: the teacher SR (SRResNet, arch srresnet/msrresnet) and one
classifier per task (the one trained at the largest input size when a task has several).
"realtime" swaps in a distilled student (ESPCN/RFDN, `train distill`) and runs the classifiers
at an input size chosen for speed: a classifier trained at ``realtime_input_size`` when one is
given, else the same checkpoint exported a second time at that size; without
``realtime_input_size``, the task's classifier trained at the smallest input size.

Models that no profile names (an SRGAN generator, a second student) still go into the bundle,
where `bench --frontier` measures them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from echosr_edge.errors import ConfigError, DataError, did_you_mean
from echosr_edge.export.models import ExportModel

PROFILES = ("default", "realtime")
CLASSIFIER_TASKS = ("view", "phase", "quality")


def _students() -> tuple[str, ...]:
    from echosr_edge.models.registry import STUDENT_ARCHITECTURES

    return STUDENT_ARCHITECTURES


def _teacher(models: list[ExportModel]) -> ExportModel | None:
    teachers = [m for m in models if m.role == "sr" and m.arch not in _students()]
    # The SRResNet (meta model 'srresnet') before an SRGAN generator, which shares its arch.
    teachers.sort(key=lambda m: (m.meta.get("model") == "srgan", m.name != "sr"))
    return teachers[0] if teachers else None


def _pick_student(models: list[ExportModel], student_checkpoint: Path | None) -> ExportModel:
    students = [m for m in models if m.role == "sr" and m.arch in _students()]
    if student_checkpoint is not None:
        chosen = [m for m in students if Path(m.checkpoint).resolve() == Path(student_checkpoint).resolve()]
        if not chosen:
            raise DataError(student_checkpoint, f"not a distilled student checkpoint (students are {', '.join(_students())})")
        return chosen[0]
    if not students:
        raise DataError(
            "checkpoints",
            "the realtime profile needs a distilled student SR and none was given: distil one with "
            "`echosr-edge train distill ROOT --teacher SR.pt --student rfdn --out student.pt`, then pass it "
            "with --student-checkpoint student.pt (or put it among CHECKPOINTS)",
        )
    if len(students) > 1:
        names = ", ".join(f"{m.name} ({m.checkpoint})" for m in students)
        raise DataError("checkpoints", f"several students were given ({names}); choose one with --student-checkpoint")
    return students[0]


def plan_profiles(
    models: list[ExportModel],
    profile: str = "default",
    student_checkpoint: Path | None = None,
    realtime_input_size: int | None = None,
) -> tuple[list[ExportModel], dict[str, dict[str, str]]]:
    """The models to export and the manifest's ``profiles`` ({} keeps a plain default-only bundle).

    ``student_checkpoint`` must be one of ``models`` (the CLI adds it). Raises DataError naming
    what is missing: no classifier, no teacher, no student for the realtime profile.
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}.{did_you_mean(profile, PROFILES)}")
    classifiers = [m for m in models if m.role == "classifier"]
    srs = [m for m in models if m.role == "sr"]
    if profile == "default" and len(srs) <= 1 and student_checkpoint is None:
        return list(models), {}  # a bundle as before profiles: every model runs
    teacher = _teacher(models) or (srs[0] if srs else None)
    default: dict[str, str] = {"sr": teacher.name} if teacher else {}
    per_task: dict[str, list[ExportModel]] = {}
    for m in classifiers:
        if m.task in CLASSIFIER_TASKS:
            per_task.setdefault(m.task, []).append(m)
    by_task = {task: max(ms, key=lambda m: m.input_size) for task, ms in per_task.items()}
    default.update({task: m.name for task, m in by_task.items()})
    if not any(slot in ("view", "phase") for slot in default):
        raise DataError("checkpoints", "no view or phase classifier checkpoint was given: a profile needs one to run")
    profiles = {"default": default}
    out = list(models)
    if profile == "realtime":
        student = _pick_student(models, student_checkpoint)
        realtime = {"sr": student.name}
        for task, m in by_task.items():
            size = realtime_input_size or min(x.input_size for x in per_task[task])
            trained = next((x for x in per_task[task] if x.input_size == size), None)
            if task == "quality" or trained is not None:
                realtime[task] = (trained or m).name
                continue
            fast = replace(m, name=f"{m.name}_{size}", input_size=size)
            if fast.name in {x.name for x in out}:
                raise DataError(m.checkpoint, f"a model is already named {fast.name!r}")
            out.append(fast)
            realtime[task] = fast.name
        profiles["realtime"] = realtime
    return out, profiles
