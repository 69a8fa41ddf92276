// Undo and redo over snapshots of the whole answer (every control's value), so that one history
// serves every control kind and an undo can never leave two controls out of step.
export class UndoHistory {
  constructor(limit = 300) {
    this.limit = limit;
    this.reset("{}");
  }

  reset(snapshot) {
    this.states = [snapshot];
    this.position = 0;
  }

  get current() {
    return this.states[this.position];
  }

  record(snapshot) {
    if (snapshot === this.current) return false;
    this.states.splice(this.position + 1);
    this.states.push(snapshot);
    if (this.states.length > this.limit) this.states.shift();
    this.position = this.states.length - 1;
    return true;
  }

  undo() {
    if (this.position === 0) return null;
    this.position -= 1;
    return this.current;
  }

  redo() {
    if (this.position >= this.states.length - 1) return null;
    this.position += 1;
    return this.current;
  }
}
