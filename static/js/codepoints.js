// Span offsets are Unicode code points; JavaScript strings index UTF-16 code units.
// A CodePointIndex converts both ways for one text (astral characters take two code units).
export class CodePointIndex {
  constructor(text) {
    this.text = text;
    const units = text.length;
    this.unitToPoint = new Int32Array(units + 1);
    const points = [];
    let point = 0;
    for (let unit = 0; unit < units; ) {
      const code = text.codePointAt(unit);
      const width = code > 0xffff ? 2 : 1;
      points.push(unit);
      this.unitToPoint[unit] = point;
      // A position inside a surrogate pair belongs to the character it splits.
      if (width === 2) this.unitToPoint[unit + 1] = point;
      unit += width;
      point += 1;
    }
    this.unitToPoint[units] = point;
    points.push(units);
    this.pointToUnit = Int32Array.from(points);
    this.length = point;
  }

  toPoint(unit) {
    return this.unitToPoint[Math.max(0, Math.min(unit, this.text.length))];
  }

  toUnit(point) {
    return this.pointToUnit[Math.max(0, Math.min(point, this.length))];
  }

  slice(start, end) {
    return this.text.slice(this.toUnit(start), this.toUnit(end));
  }
}
