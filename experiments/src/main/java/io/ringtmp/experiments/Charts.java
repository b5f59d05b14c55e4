package io.ringtmp.experiments;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Line plots drawn by JFreeChart as PNG, headless. */
final class Charts {
    private Charts() {
    }

    /**
     * A plot: its title, axis labels and series (name to (x, y) points, in order).
     *
     * @param integerX whether x takes whole values only (node counts): integer ticks
     * @param yFromZero whether the y axis starts at zero (fractions) or fits the data (losses)
     */
    record Plot(String title, String xLabel, String yLabel, Map<String, List<double[]>> series, boolean integerX, boolean yFromZero) {
    }

    /** {@code plot} as a PNG of {@code width} x {@code height} pixels. */
    static byte[] png(Plot plot, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (var e : plot.series().entrySet()) {
            XYSeries s = new XYSeries(e.getKey(), false, true);
            for (double[] p : e.getValue()) {
                s.add(p[0], p[1]);
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(plot.title(), plot.xLabel(), plot.yLabel(), data, PlotOrientation.VERTICAL,
                true, false, false);
        XYPlot xy = chart.getXYPlot();
        xy.setBackgroundPaint(Color.WHITE);
        xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
        xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        xy.setRenderer(r);
        if (plot.integerX()) {
            ((NumberAxis) xy.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        ((NumberAxis) xy.getRangeAxis()).setAutoRangeIncludesZero(plot.yFromZero());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }

    /** {@code plot} as a {@code data:image/png;base64,...} URI. */
    static String dataUri(Plot plot) throws IOException {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png(plot, 800, 450));
    }
}
